/** Typed errors of the webhook area. Callers branch on `instanceof` and on `code`, never on message text. */

/** Why an endpoint's configuration was refused. `field` names the offending setting. */
export class WebhookConfigurationError extends Error {
  override readonly name = 'WebhookConfigurationError';
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

export type AddressRefusalCode =
  | 'invalid_url'
  | 'scheme_not_allowed'
  | 'credentials_in_url'
  | 'private_address'
  | 'loopback_address'
  | 'link_local_address'
  | 'unique_local_address'
  | 'unspecified_address'
  | 'reserved_address'
  | 'port_not_allowed'
  | 'resolved_to_refused_address';

/** A URL or a resolved address the SSRF policy refuses; raised before any connection is opened. */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  constructor(
    readonly code: AddressRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

export class WebhookEndpointNotFoundError extends Error {
  override readonly name = 'WebhookEndpointNotFoundError';
  constructor(
    readonly tenantId: string,
    readonly endpointId: string,
    options?: ErrorOptions,
  ) {
    super(`No webhook endpoint ${endpointId} for tenant ${tenantId}`, options);
  }
}

export class RetryScheduleError extends Error {
  override readonly name = 'RetryScheduleError';
}

/** An event the tenant asked about is not in the audit (or is another tenant's: the same answer). */
export class WebhookEventNotFoundError extends Error {
  override readonly name = 'WebhookEventNotFoundError';
  constructor(
    readonly tenantId: string,
    readonly eventId: string,
  ) {
    super(`No event ${eventId} for tenant ${tenantId}`);
  }
}

/** A request to the tenant API that does not parse; `field` names the offending part. */
export class WebhookRequestError extends Error {
  override readonly name = 'WebhookRequestError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
