/**
 * Request and response bodies of the console's API routes, shared by the server side
 * (`routes.ts`) and the page (`browser/app.ts`) so both parse the same shapes.
 */
import * as z from 'zod';
import {
  auditAttemptItemSchema,
  auditEventItemSchema,
  auditSubjectItemSchema,
} from '../../src/core/auditRecord.js';

const tenantId = z.string().min(1).max(128);
const channel = z.string().min(1).max(256);

export const consoleConfigSchema = z.object({
  webSocketUrl: z.string(),
  canDropConnections: z.boolean(),
  defaults: z.object({ tenantId, subject: z.string(), channels: z.array(channel) }),
});
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export const tokenRequestSchema = z.object({
  tenantId,
  subject: z.string().min(1).max(256),
  channels: z.array(channel).max(100).optional(),
});
export const tokenResponseSchema = z.object({ token: z.string(), expiresInSeconds: z.number() });

/** At most this many demo events per click: enough for a demo, small enough to stay quick. */
export const MAX_DEMO_EVENTS = 500;

export const writeEventsRequestSchema = z.object({
  tenantId,
  channel,
  type: z.string().min(1).max(256).default('demo.event'),
  count: z.number().int().min(1).max(MAX_DEMO_EVENTS).default(1),
  message: z.string().max(1000).optional(),
});
export const writeEventsResponseSchema = z.object({ eventIds: z.array(z.string()) });

export const eventDetailsResponseSchema = z.object({
  event: auditEventItemSchema.nullable(),
  attempts: z.array(auditAttemptItemSchema),
  /** Per-subject records: delivered, replayed, received (receipts), ... */
  subjects: z.array(auditSubjectItemSchema).default([]),
});
export type EventDetails = z.infer<typeof eventDetailsResponseSchema>;

export const dropConnectionsResponseSchema = z.object({ dropped: z.number().int().nonnegative() });

/** Every refusal the console API sends: a code and a sentence. */
export const CONSOLE_ERROR_CODES = [
  'BAD_REQUEST',
  'NOT_FOUND',
  'NOT_CONFIGURED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type ConsoleErrorCode = (typeof CONSOLE_ERROR_CODES)[number];
export const consoleErrorSchema = z.object({
  error: z.object({ code: z.enum(CONSOLE_ERROR_CODES), message: z.string() }),
});
