/**
 * The sequences table: per tenant+channel counters and per-event number assignments
 * (src/core/sequence.ts). Written by the publisher, read by the WebSocket message handler (heads).
 * Retained by default: losing it starts every channel's numbering again in a new epoch, and every
 * resuming client then reloads its state.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { createTopologyTable } from './topologyTables.js';

export interface SequencesProps {
  /** @default RemovalPolicy.RETAIN (with deletion protection) */
  readonly removalPolicy?: RemovalPolicy;
}

export class Sequences extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: SequencesProps = {}) {
    super(scope, id);
    this.table = createTopologyTable(this, 'Table', 'sequences', {
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
