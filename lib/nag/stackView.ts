/**
 * A stack's resources as CloudFormation will see them (tokens resolved, property overrides
 * applied), indexed by logical id, so a rule on one resource can follow its references (a mapping
 * to its queue and function, a route to its integration, an alarm to its queue).
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export type Json = Record<string, unknown>;

export interface ResolvedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Json;
  readonly node: CfnResource;
}

export class StackView {
  readonly stack: Stack;
  readonly resources = new Map<string, ResolvedResource>();
  private readonly byNode = new Map<IConstruct, ResolvedResource>();

  constructor(stack: Stack) {
    this.stack = stack;
    for (const construct of stack.node.findAll()) {
      if (!CfnResource.isCfnResource(construct) || Stack.of(construct) !== stack) continue;
      const rendered = stack.resolve(construct._toCloudFormation()) as {
        Resources?: Record<string, { Type: string; Properties?: Json }>;
      };
      for (const [logicalId, resource] of Object.entries(rendered.Resources ?? {})) {
        const entry = {
          logicalId,
          type: resource.Type,
          properties: resource.Properties ?? {},
          node: construct,
        };
        this.resources.set(logicalId, entry);
        this.byNode.set(construct, entry);
      }
    }
  }

  of(node: CfnResource): ResolvedResource | undefined {
    return this.byNode.get(node);
  }

  get(logicalId: string | undefined): ResolvedResource | undefined {
    return logicalId === undefined ? undefined : this.resources.get(logicalId);
  }

  ofType(type: string): ResolvedResource[] {
    return [...this.resources.values()].filter((r) => r.type === type);
  }
}

/** `{Ref: id}` or `{"Fn::GetAtt": [id, attr]}` → id. */
export function referencedId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Json;
  if (typeof record.Ref === 'string') return record.Ref;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Every logical id referenced anywhere inside a value (Ref, GetAtt, inside Fn::Join, ...). */
export function referencedIds(value: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const id = referencedId(v);
    if (id !== undefined) found.push(id);
    for (const child of Object.values(v as Json)) walk(child);
  };
  walk(value);
  return found;
}

export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

export function objectOf(value: unknown): Json | undefined {
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      return typeof parsed === 'object' && parsed !== null ? (parsed as Json) : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
