/**
 * The devices page: the browser device farm's connected devices (asked over its control URL,
 * --farm) and the workers of distributed searches (from their Redis, --redis). Either may be
 * absent (not given) or unreachable; the page says which, and why.
 */
import { listDistributedStatus, type DistributedStatus } from '../distributed/status.js';
import { parseRedisUrl } from '../distributed/redis-url.js';
import { redactUrl } from '../latency/browser/remote.js';
import type { ServerStatus } from '../latency/browser/server.js';
import { fetchFarmStatus } from '../latency/browser/status-client.js';

export interface DevicesView {
  readonly farm: { url: string; status: ServerStatus } | { url: string; error: string } | null;
  readonly workers: DistributedStatus | { redis: string; error: string } | null;
}

export async function devicesView(o: { farmUrl: string | null; redis: string | null; timeoutMs?: number }): Promise<DevicesView> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const [farm, workers] = await Promise.all([
    o.farmUrl === null
      ? null
      : fetchFarmStatus(o.farmUrl, { timeoutMs }).then(
          (status) => ({ url: redactUrl(o.farmUrl as string), status }),
          (e: Error) => ({ url: redactUrl(o.farmUrl as string), error: e.message }),
        ),
    o.redis === null
      ? null
      : listDistributedStatus(o.redis).catch((e: Error) => ({ redis: parseRedisUrl(o.redis as string).display, error: e.message })),
  ]);
  return { farm, workers };
}

