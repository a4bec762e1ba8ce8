import { z } from 'zod';
import { readableFile } from '../../core/config/environment.js';
import { encodingSchema } from '../shared/encoding.js';
import { endpointUrl, requestSchema, secretString, templateString, tlsSchema } from '../shared/schemas.js';

/** entries.write limits, as Cloud Logging documents them. */
export const MAX_REQUEST_BYTES = 10_000_000;
export const MAX_ENTRY_BYTES = 256 * 1024;

const PARENTS = ['project_id', 'organization_id', 'billing_account_id', 'folder_id'] as const;

export const gcpStackdriverLogsSinkSchema = z
  .strictObject({
    project_id: z.string().min(1).optional().describe('Project to write to (logName `projects/<id>/logs/<log_id>`). Exactly one of project_id, organization_id, billing_account_id, folder_id.').meta({ examples: ['my-gke-project'] }),
    organization_id: z.string().min(1).optional().describe('Organization to write to, instead of project_id.'),
    billing_account_id: z.string().min(1).optional().describe('Billing account to write to, instead of project_id.'),
    folder_id: z.string().min(1).optional().describe('Folder to write to, instead of project_id.'),
    log_id: templateString(z.string().min(1))
      .describe('Log ID (template), URL-encoded into each entry\'s logName.')
      .meta({ examples: ['sluice', '{{ kubernetes.pod_namespace }}'] }),
    resource: z
      .object({
        type: z.string().min(1).describe('Monitored resource type, e.g. `k8s_container`, `k8s_node`, `global`.'),
      })
      .catchall(templateString())
      .describe(
        'The monitored resource of every entry: `type`, and its labels as further keys (templates). For `k8s_container` the labels default to project_id (the sink\'s), namespace_name, pod_name and container_name (from the kubernetes fields); set location and cluster_name.',
      )
      .meta({ examples: [{ type: 'k8s_container', location: 'europe-west1', cluster_name: 'prod' }] }),
    labels: z.record(z.string(), templateString()).default({}).describe('Labels of each entry (templates), e.g. `{ app = "{{ kubernetes.pod_labels.app }}" }`.'),
    severity_key: z
      .string()
      .min(1)
      .optional()
      .describe('Field holding the entry severity (removed from the payload): a number 0-800 or a name or prefix (emerg, fatal, alert, crit, err, warn, notice, info, debug, trace; case ignored). Unset: DEFAULT.'),
    credentials_path: readableFile()
      .optional()
      .describe('Service-account key file (JSON). Unset: GOOGLE_APPLICATION_CREDENTIALS, then the metadata server (GKE Workload Identity, GCE).'),
    api_key: secretString('API key sent as `x-goog-api-key` instead of OAuth credentials.').optional(),
    endpoint: endpointUrl('Cloud Logging API base URL; `/v2/entries:write` is appended.').default('https://logging.googleapis.com'),
    encoding: encodingSchema
      .prefault({})
      .describe('json: the event as `jsonPayload`; text: its message as `textPayload`. only_fields / except_fields pick the fields.'),
    tls: tlsSchema.optional().describe('TLS settings for connections to the endpoint; unset: system CA roots, no client certificate.'),
    batch: z
      .strictObject({
        max_events: z.number().int().positive().default(1000).describe('Entries per entries.write request.'),
        max_bytes: z
          .number()
          .int()
          .positive()
          .max(MAX_REQUEST_BYTES)
          .default(5_000_000)
          .describe('Bytes of entries (JSON) per request (Cloud Logging accepts at most 10 MB).'),
        timeout_secs: z.number().positive().default(1).describe('Flush a batch this long after its first event.'),
      })
      .prefault({})
      .describe('When a batch is flushed: whichever limit is reached first.'),
    request: requestSchema.describe('Concurrency, timeout, retry and rate limit of requests to Cloud Logging.'),
  })
  .superRefine((config, ctx) => {
    const set = PARENTS.filter((key) => config[key] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [set[1] ?? 'project_id'], message: `set exactly one of ${PARENTS.join(', ')}${set.length ? ` (got ${set.join(', ')})` : ''}` });
    }
    if (config.api_key !== undefined && config.credentials_path !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['api_key'], message: 'set api_key or credentials_path, not both' });
    }
  });
export type GcpStackdriverLogsSinkConfig = z.infer<typeof gcpStackdriverLogsSinkSchema>;

/** `projects/<id>`, `organizations/<id>`, `billingAccounts/<id>` or `folders/<id>`. */
export function parentOf(config: GcpStackdriverLogsSinkConfig): string {
  if (config.project_id) return `projects/${config.project_id}`;
  if (config.organization_id) return `organizations/${config.organization_id}`;
  if (config.billing_account_id) return `billingAccounts/${config.billing_account_id}`;
  return `folders/${config.folder_id!}`;
}
