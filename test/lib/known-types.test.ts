// The list of documented record types is the spec's: every name in it appears in the format spec
// (../shared/spec/codex-rollout-format.md, beside this repository as CI checks it out).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { EVENT_TYPES, RECORD_TYPES, RESPONSE_ITEM_TYPES, undocumented } from '../../lib/core/known-types.js';
import { REPO } from '../helpers/fixtures.js';

const spec = readFileSync(join(REPO, '../shared/spec/codex-rollout-format.md'), 'utf8');

/** As the spec writes a name: quoted, or as the second of a pair (`dynamic_tool_call_request/_response`). */
function written(name: string): boolean {
  const pair = /^(.*)_([a-z]+)$/.exec(name);
  return spec.includes(`\`${name}`) || spec.includes(`"${name}"`) || (pair !== null && spec.includes(`${pair[1]}_`) && spec.includes(`/_${pair[2]}\``));
}

t.test('every listed type is in the spec', async (t) => {
  for (const name of [...RECORD_TYPES, ...RESPONSE_ITEM_TYPES, ...EVENT_TYPES]) t.ok(written(name), name);
});

t.test('undocumented names the type, or the type and payload type, it does not know', async (t) => {
  t.equal(undocumented({ type: 'event_msg', payloadType: 'token_count' }), null);
  t.equal(undocumented({ type: 'event_msg', payloadType: 'telepathy_started' }), 'event_msg/telepathy_started');
  t.equal(undocumented({ type: 'response_item', payloadType: 'hologram_call' }), 'response_item/hologram_call');
  t.equal(undocumented({ type: 'mood_ring' }), 'mood_ring');
  t.equal(undocumented({ type: 'turn_context' }), null);
  t.equal(undocumented({}), null, 'a line without a type is another matter (fsck reports it)');
});
