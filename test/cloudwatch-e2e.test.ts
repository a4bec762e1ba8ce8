// The sluice process: stdin -> remap -> aws_cloudwatch_logs sink -> a fake CloudWatch Logs that
// throttles once. Credentials come from the SDK default chain (the environment); the group and
// stream do not exist yet; lines remapped 15 days into the past are refused (a partial failure)
// and the agent still exits 0 once every line is acknowledged.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { FakeCloudwatchLogs } from './fakes/cloudwatch-logs.js';
import { runStdinAgent } from './agent-process.js';
import { tempDir } from './harness.js';

const dir = tempDir();
after(() => dir.cleanup());

it('aws_cloudwatch_logs: every stdin line reaches its stream once, after a ThrottlingException; too-old lines are refused and counted', async () => {
  const keys = { accessKeyId: 'AKIDE2ECLOUDWATCH', secretAccessKey: 'e2e-cloudwatch-secret-value' };
  const cw = await new FakeCloudwatchLogs({ region: 'us-west-2', ...keys, throttlePuts: 1 }).start();
  try {
    const config = join(dir.path, 'agent.toml');
    writeFileSync(
      config,
      `data_dir = "${dir.path}"\n[sources.in]\ntype = "stdin"\n` +
        `[transforms.age]\ntype = "remap"\ninputs = ["in"]\nsource = '''\nif starts_with(.message, "old") { .timestamp = "2020-01-01T00:00:00Z" }\n'''\n` +
        `[sinks.cloudwatch]\ntype = "aws_cloudwatch_logs"\ninputs = ["age"]\nendpoint = "${cw.url}"\nregion = "us-west-2"\n` +
        `group_name = "/sluice/e2e"\nstream_name = "{{ source_type }}"\nbatch.max_events = 100\nbatch.timeout_secs = 0.2\n` +
        `request.retry_initial_backoff_secs = 0.05\n`,
    );
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ünïcödé`);
    const old = ['old one', 'old two'];
    const { code, stderr } = await runStdinAgent(config, [...lines.slice(0, 250), ...old, ...lines.slice(250)].join('\n') + '\n', {
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    assert.equal(code, 0, stderr);
    const stored = cw.messages('/sluice/e2e', 'stdin').map((m) => (JSON.parse(m) as { message: string }).message);
    assert.deepEqual([...stored].sort(), [...lines].sort(), 'each line once, the old ones left out');
    assert.deepEqual(cw.failures, [], 'every call correctly signed');
    assert.deepEqual(cw.calls.slice(0, 2), ['DescribeLogStreams', 'PutLogEvents'], 'healthcheck first');
    assert.ok(cw.calls.includes('CreateLogGroup') && cw.calls.includes('CreateLogStream'));
    assert.equal(cw.throttled, 1, 'one call was throttled, then retried');
    assert.match(stderr, /ThrottlingException: Rate exceeded/, 'the throttling was logged');
    assert.match(stderr, /too_old/, 'the refused lines were logged with their reason');
    assert.doesNotMatch(stderr, new RegExp(keys.secretAccessKey), 'the secret never reaches the logs');
  } finally {
    await cw.close();
  }
});
