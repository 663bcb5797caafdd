/**
 * The quarantine table: records (stream records, queue messages) that could not become or stay
 * events, each with its reason. Shared by every function whose topology entry writes to it.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { createTopologyTable } from './topologyTables.js';

export interface QuarantineProps {
  /** @default RemovalPolicy.RETAIN (with deletion protection) */
  readonly removalPolicy?: RemovalPolicy;
}

export class Quarantine extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: QuarantineProps = {}) {
    super(scope, id);
    this.table = createTopologyTable(this, 'Table', 'quarantine', {
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
