/** The WebSocket API: routes, authorizer, stage throttling and access logs, grants, secret, fan-out. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV } from '../../lib/config.js';
import { queueMappingOf } from '../../lib/eventSourceMappings.js';
import { JWT_ENV } from '../../src/aws/jwtSecret.js';
import { topology } from '../../src/contract/topology.js';
import {
  bundledTemplate,
  functionId,
  policyStatementsOf,
  queueId,
  resource,
  resourcesOfType,
  synthStack,
  tableId,
} from './fixture.js';

const template = bundledTemplate();
const apiId = () => resourcesOfType(template, 'AWS::ApiGatewayV2::Api')[0]?.[0] ?? '';

describe('WebSocketApi', () => {
  it('verifies the token query-string parameter with a REQUEST authorizer on $connect only', () => {
    const authorizers = resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer');
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0] ?? ['', { Properties: {} }];
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
      ApiId: { Ref: apiId() },
    });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(
      functionId(template, 'wsAuthorizer'),
    );
    for (const [, route] of resourcesOfType(template, 'AWS::ApiGatewayV2::Route')) {
      if (route.Properties.RouteKey === '$connect') {
        expect(route.Properties).toMatchObject({
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: authorizerId },
        });
      } else {
        expect(route.Properties.AuthorizerId, String(route.Properties.RouteKey)).toBeUndefined();
      }
    }
  });

  it('has every route of the topology', () => {
    // The WebSocket API's routes only (the tenant webhook API is an HTTP API beside it).
    const keys = resourcesOfType(template, 'AWS::ApiGatewayV2::Route')
      .filter(([, r]) => JSON.stringify(r.Properties.ApiId) === JSON.stringify({ Ref: apiId() }))
      .map(([, r]) => r.Properties.RouteKey);
    expect(keys.sort()).toEqual(topology.webSocket.routes.map((r) => r.routeKey).sort());
  });

  it('throttles the stage routes and writes JSON access logs to a log group with retention', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: topology.webSocket.stageName,
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: topology.webSocket.throttling.rateLimit,
        ThrottlingBurstLimit: topology.webSocket.throttling.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"connectionId":"\\$context.connectionId"'),
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::ApiGateway::Account', { CloudWatchRoleArn: Match.anyValue() });
  });

  it('grants execute-api:ManageConnections on this API, stage and POST/DELETE only, to fan-out and wsMessage only', () => {
    const arn = (method: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':execute-api:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':',
          { Ref: apiId() },
          `/${topology.webSocket.stageName}/${method}/@connections/*`,
        ],
      ],
    });
    const expected = [arn('POST'), arn('DELETE')];
    for (const fn of ['fanout', 'wsMessage'] as const) {
      const statements = policyStatementsOf(template, fn).filter(
        (s) => s.Action === 'execute-api:ManageConnections',
      );
      expect(statements, fn).toEqual([expect.objectContaining({ Effect: 'Allow', Resource: expected })]);
    }
    for (const fn of ['wsAuthorizer', 'wsConnect', 'wsDisconnect', 'publisher', 'audit'] as const) {
      expect(JSON.stringify(policyStatementsOf(template, fn)), fn).not.toContain(
        'execute-api:ManageConnections',
      );
    }
  });

  it('passes the @connections endpoint of this stage to the functions that post', () => {
    for (const fn of ['fanout', 'wsMessage'] as const) {
      const env = (
        resource(template, functionId(template, fn)).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      expect(JSON.stringify(env[topology.webSocket.managementEndpointEnv])).toContain(apiId());
      expect(JSON.stringify(env[topology.webSocket.managementEndpointEnv])).toContain(
        `/${topology.webSocket.stageName}`,
      );
    }
  });

  it('generates the HS256 secret and lets only the authorizer read it', () => {
    const secrets = resourcesOfType(template, 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const [secretId] = secrets[0] ?? [''];
    expect(secrets[0]?.[1].Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    const authorizerEnv = (
      resource(template, functionId(template, 'wsAuthorizer')).Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(authorizerEnv[JWT_ENV.secretArn]).toEqual({ Ref: secretId });
    for (const fn of Object.keys(topology.functions) as (keyof typeof topology.functions)[]) {
      const readsSecret = JSON.stringify(policyStatementsOf(template, fn)).includes(
        'secretsmanager:GetSecretValue',
      );
      // The authorizer verifies connection tokens; the tenant webhook API verifies its tokens with the same key.
      expect(readsSecret, fn).toBe(fn === 'wsAuthorizer' || fn === 'webhookApi');
    }
  });

  it('uses the names the handlers read for the JWT settings', () => {
    expect(CONFIG_ENV.jwtSecretArn).toBe(JWT_ENV.secretArn);
    expect(CONFIG_ENV.jwtIssuer).toBe(JWT_ENV.issuer);
    expect(CONFIG_ENV.jwtAudience).toBe(JWT_ENV.audience);
    expect(CONFIG_ENV.jwksUrl).toBe(JWT_ENV.jwksUrl);
  });

  it('in OIDC mode configures issuer, audience and JWKS instead of a secret', () => {
    const { template: oidc } = synthStack({
      auth: {
        mode: 'oidc',
        issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
        audience: 'client-123',
      },
    });
    expect(resourcesOfType(oidc, 'AWS::SecretsManager::Secret')).toHaveLength(0);
    const env = (
      resource(oidc, functionId(oidc, 'wsAuthorizer')).Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env).toMatchObject({
      [JWT_ENV.issuer]: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
      [JWT_ENV.audience]: 'client-123',
      [JWT_ENV.jwksUrl]: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json',
    });
    expect(env[JWT_ENV.secretArn]).toBeUndefined();
  });

  it('drains the fan-out queue with partial batch responses and the coalescing and chunking settings', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(template, 'fanout') },
      EventSourceArn: { 'Fn::GetAtt': [queueId(template, 'fanoutQueue'), 'Arn'] },
      BatchSize: queueMappingOf('fanout').batchSize,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const env = (
      resource(template, functionId(template, 'fanout')).Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env).toMatchObject({
      [CONFIG_ENV.fanoutCoalesce]: 'true',
      [CONFIG_ENV.fanoutMaxEventsPerFrame]: '50',
      [CONFIG_ENV.fanoutChunkThreshold]: '2000',
    });
    const { template: off } = synthStack({
      fanout: { coalesce: false, maxEventsPerFrame: 10, batchingWindowSeconds: 5, chunkThreshold: 500 },
    });
    off.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId(off, 'fanout') },
      MaximumBatchingWindowInSeconds: 5,
    });
    off.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [CONFIG_ENV.fanoutChunkThreshold]: '500' }) },
    });
  });

  it('keeps connections in a table with a TTL and the subscription index', () => {
    expect(resource(template, tableId(template, 'connections')).Properties).toMatchObject({
      TimeToLiveSpecification: { AttributeName: topology.tables.connections.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: [
        expect.objectContaining({ IndexName: topology.tables.connections.indexes[0].name }),
      ],
    });
  });
});
