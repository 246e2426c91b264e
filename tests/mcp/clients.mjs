// The official TypeScript MCP clients against the real server: SDK 1.x
// (legacy era) and client 2.x pinned to 2026-07-28, each over Streamable
// HTTP and over the stdio command. Lists tools, resources and prompts, calls
// every tool, validates structuredContent against each outputSchema (ajv),
// and checks the answers against the churn tests/mcp/run.sh made.
//
// env: KWS_MCP_URL, KWS_SERVER_BINARY, KWS_MCP_NS (the churn's namespace),
//      KWS_MCP_CONFIGMAP, KWS_MCP_POD
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import Ajv from 'ajv';
import jsonpatch from 'fast-json-patch';

const url = process.env.KWS_MCP_URL;
const bin = process.env.KWS_SERVER_BINARY;
const ns = process.env.KWS_MCP_NS;
const configMap = process.env.KWS_MCP_CONFIGMAP;
const pod = process.env.KWS_MCP_POD;

let passed = 0;
let failed = 0;
function check(what, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`PASS: ${what}`);
  } else {
    failed++;
    console.log(`FAIL: ${what}${detail ? `: ${detail}` : ''}`);
  }
}

const incidentTools = ['check_node_health', 'check_pod_issues', 'check_volume_issues',
  'analyze_recent_changes', 'investigate_pod_startup', 'check_resource_limits'];
const historyTools = ['what_changed', 'list_changes', 'object_history', 'diff_versions',
  'blame', 'events_for', 'get_version', 'snapshot_at', 'coverage'];

const end = new Date().toISOString();
const start = new Date(Date.now() - 3600e3).toISOString();
const window = { start_time: start, end_time: end };
const cm = { namespace: ns, resourceType: 'configmaps', name: configMap };

/// Valid arguments for every tool, about the churn's objects.
const callsOf = () => ({
  check_node_health: window,
  check_pod_issues: { ...window, namespace: ns },
  check_volume_issues: { ...window, namespace: ns },
  analyze_recent_changes: { ...window, resource_types: 'configmaps,pods' },
  investigate_pod_startup: { ...window, namespace: ns, pod_name: pod },
  check_resource_limits: { ...window, namespace: ns },
  what_changed: { window: '1h', namespace: ns },
  list_changes: { namespace: ns, resourceType: 'configmaps', limit: 5 },
  object_history: cm,
  diff_versions: cm,
  blame: cm,
  events_for: { ...cm, type: 'Warning' },
  get_version: null, // filled from object_history
  snapshot_at: { namespace: ns, limit: 10 },
  coverage: { start: '1h' },
});

async function exercise(name, client) {
  const ajv = new Ajv({ strict: false });
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  check(`${name}: tools/list has the six drop-in tools and the nine history tools`,
    [...incidentTools, ...historyTools].every((t) => names.includes(t)), names.join(','));
  check(`${name}: every tool is read-only with an object outputSchema`,
    tools.every((t) => t.annotations?.readOnlyHint === true && t.outputSchema?.type === 'object'));
  const { resourceTemplates } = await client.listResourceTemplates();
  check(`${name}: the four resource templates`,
    ['audit://events/{namespace}', 'audit://events/{namespace}/{resource_type}',
      'audit://changes/{time_range}', 'audit://node-events/{node_name}']
      .every((u) => resourceTemplates.some((t) => t.uriTemplate === u)));
  const { prompts } = await client.listPrompts();
  check(`${name}: the four prompts`,
    ['investigate_pod_failure', 'diagnose_cluster_health', 'analyze_deployment_rollout',
      'troubleshoot_volume_issues'].every((p) => prompts.some((x) => x.name === p)));
  const prompt = await client.getPrompt({ name: 'investigate_pod_failure',
    arguments: { pod_name: pod, namespace: ns } });
  check(`${name}: prompts/get names the pod`, prompt.messages[0].content.text.includes(pod));
  const resource = await client.readResource({ uri: `audit://events/${ns}/configmaps` });
  const records = JSON.parse(resource.contents[0].text);
  check(`${name}: resources/read audit://events/${ns}/configmaps lists the ConfigMap`,
    records.some((r) => r.resourceName === configMap && !('objectChanges' in r)));

  const calls = callsOf();
  const answers = {};
  for (const tool of tools) {
    let args = calls[tool.name];
    if (tool.name === 'get_version')
      args = { id: answers.object_history.items.at(-1).id, paths: ['/data'] };
    const res = await client.callTool({ name: tool.name, arguments: args });
    const sc = res.structuredContent;
    const validate = ajv.compile(tool.outputSchema);
    check(`${name}: ${tool.name} answers and matches its outputSchema`,
      !res.isError && validate(sc) && typeof sc.now === 'string'
        && JSON.stringify(JSON.parse(res.content[0].text)) === JSON.stringify(sc),
      res.isError ? res.content[0].text : JSON.stringify(validate.errors));
    answers[tool.name] = sc;
  }

  // What run.sh did: the ConfigMap's key changed from v1 to v2.
  const entry = answers.what_changed.items.find((e) => e.resourceName === configMap);
  check(`${name}: what_changed lists the changed ConfigMap with its diff`,
    entry && entry.patch.some((op) => op.path === '' || op.path.startsWith('/data')),
    JSON.stringify(answers.what_changed.items.map((e) => e.resourceName)));
  const two = await client.callTool({ name: 'what_changed',
    arguments: { window: '1h', namespace: ns, resourceTypes: ['pods', 'configmaps'] } });
  check(`${name}: what_changed over two types has the ConfigMap and the Pod`,
    !two.isError && ['settings', 'pull'].every((n) =>
      two.structuredContent.items.some((e) => e.resourceName === n)),
    JSON.stringify(two.structuredContent));
  const versions = answers.object_history.items;
  const diff = answers.diff_versions;
  const from = await client.callTool({ name: 'get_version', arguments: { id: diff.from.id } });
  const to = await client.callTool({ name: 'get_version', arguments: { id: diff.to.id } });
  const applied = jsonpatch.applyPatch(structuredClone(from.structuredContent.object),
    diff.patch.map(({ manager, ...op }) => op)).newDocument;
  check(`${name}: diff_versions' patch turns one version into the next (fast-json-patch)`,
    versions.length >= 2 && JSON.stringify(applied) === JSON.stringify(to.structuredContent.object)
      && to.structuredContent.object.data.key === 'v2');
  check(`${name}: get_version picks /data`, answers.get_version.paths['/data']?.key === 'v2');
  check(`${name}: blame answers for the ConfigMap's /data/key`,
    answers.blame.fields.some((f) => f.path === '/data/key'));

  // A Pod stuck in ImagePullBackOff.
  const stuck = answers.check_pod_issues.pods.find((p) => p.resourceName === pod);
  check(`${name}: check_pod_issues finds the Pod in ImagePullBackOff`,
    stuck && stuck.containerStates.some((s) => s.message.includes('ImagePullBackOff')),
    JSON.stringify(answers.check_pod_issues.pods));
  check(`${name}: investigate_pod_startup shows ImagePullBackOff`,
    answers.investigate_pod_startup.containerStates.some((s) => s.message.includes('ImagePullBackOff')));
  check(`${name}: check_resource_limits sees the Pod's container without limits`,
    answers.check_resource_limits.containersWithoutLimits.some((c) => c.pod === pod));

  // Bad arguments: a result the model can act on, naming the argument.
  const bad = await client.callTool({ name: 'list_changes', arguments: { start: 'soon' } });
  check(`${name}: a bad argument is an isError result naming it`,
    bad.isError === true && bad.content[0].text.includes('argument start'));
  const badType = await client.callTool({ name: 'list_changes',
    arguments: { resourceType: 'nosuchthings' } });
  check(`${name}: a failed query is an isError result`, badType.isError === true);
  // Paging: a small limit gives a cursor that resumes.
  const page1 = await client.callTool({ name: 'list_changes', arguments: { namespace: ns, limit: 1 } });
  const cursor = page1.structuredContent.nextCursor;
  const page2 = cursor && await client.callTool({ name: 'list_changes',
    arguments: { namespace: ns, limit: 1, cursor } });
  check(`${name}: list_changes pages with nextCursor`,
    cursor && page2.structuredContent.items[0].id !== page1.structuredContent.items[0].id);
}

const info = { name: 'kws-mcp-test', version: '1.0.0' };
const stdio = { command: bin, args: ['mcp', '--url', url], stderr: 'inherit' };
const clients = [
  ['sdk 1.x legacy over HTTP', () => [new ClientV1(info), new HttpV1(new URL(url))]],
  ['sdk 1.x legacy over stdio', () => [new ClientV1(info), new StdioV1(stdio)]],
  ['client 2.x 2026-07-28 over HTTP', () => [
    new ClientV2(info, { versionNegotiation: { mode: { pin: '2026-07-28' } } }),
    new HttpV2(new URL(url))]],
  ['client 2.x 2026-07-28 over stdio', () => [
    new ClientV2(info, { versionNegotiation: { mode: { pin: '2026-07-28' } } }),
    new StdioV2(stdio)]],
  ['client 2.x auto over HTTP', () => [
    new ClientV2(info, { versionNegotiation: { mode: 'auto' } }), new HttpV2(new URL(url))]],
];

for (const [name, make] of clients) {
  const [client, transport] = make();
  try {
    await client.connect(transport);
    await exercise(name, client);
  } catch (e) {
    check(`${name}: no exception`, false, e.stack ?? String(e));
  } finally {
    await client.close().catch(() => {});
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
