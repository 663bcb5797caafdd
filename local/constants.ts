/** Fixed identity of the offline runtime: AWS's region, a fake account and fake credentials. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
/** Resource names are `<prefix>-<topology key>`, e.g. table `outbox-relay-outbox`. */
export const LOCAL_RESOURCE_PREFIX = 'outbox-relay';
