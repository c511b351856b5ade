import t from 'tap';
import { isContextualText, TurnTally, titleFrom, userText, userTurnText } from '../../lib/core/turns.js';

const user = (...texts: string[]) => ({ type: 'message', role: 'user', content: texts.map((text) => ({ type: 'input_text', text })) });
const env = (type: string, payload: any) => ({ timestamp: 't', type, payload });

t.test('injected context is not a user turn', async (t) => {
  for (const text of [
    '<environment_context>\n  <cwd>/x</cwd>\n</environment_context>',
    '# AGENTS.md instructions for /x\n\n<INSTRUCTIONS>\nhi\n</INSTRUCTIONS>',
    '<user_instructions>\nbe nice\n</user_instructions>',
    '<turn_aborted>\nThe user interrupted the previous turn on purpose.\n</turn_aborted>',
    '  <SKILL>x</SKILL>  ',
    '<hook_prompt hook_run_id="1">x</hook_prompt>',
    '<external_slack_context>x</external_slack_context>',
    'Warning: apply_patch was requested via exec_command. Use the apply_patch tool instead.',
  ])
    t.ok(isContextualText(text), text.slice(0, 30));
  t.notOk(isContextualText('Why does <environment_context> appear in my logs?'));
  t.notOk(isContextualText('fix the bug'));
});

t.test('a user message is a turn unless any part is context', async (t) => {
  t.equal(userTurnText(user('fix the bug')), 'fix the bug');
  t.equal(userTurnText(user('# AGENTS.md instructions for /x\n<INSTRUCTIONS>\n</INSTRUCTIONS>', '<environment_context></environment_context>')), null);
  t.equal(userTurnText({ type: 'message', role: 'developer', content: [] }), null);
  t.equal(userTurnText({ type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'data:' }] }), '[Image]');
  t.equal(userTurnText({ type: 'function_call' }), null);
});

t.test('titles come from what the user typed, in every form', async (t) => {
  t.equal(userText(env('event_msg', { type: 'user_message', message: 'legacy words' })), 'legacy words');
  t.equal(userText(env('event_msg', { type: 'user_message', message: '<environment_context></environment_context>', kind: 'environment_context' })), null);
  t.equal(
    userText(env('event_msg', { type: 'item_completed', item: { type: 'UserMessage', content: [{ type: 'text', text: 'paginated words' }] } })),
    'paginated words',
  );
  t.equal(userText(env('response_item', user('bare words'))), 'bare words');
  t.equal(titleFrom('context...\n## My request for Codex:\n  do it  '), 'do it');
});

t.test('TurnTally counts turns, applies rollbacks and keeps the first title', async (t) => {
  const tally = new TurnTally();
  tally.add(env('response_item', user('<environment_context></environment_context>')));
  tally.add(env('response_item', user('first')));
  tally.add(env('response_item', user('second')));
  tally.add(env('response_item', user('third')));
  tally.add(env('event_msg', { type: 'thread_rolled_back', num_turns: 2 }));
  tally.add(env('response_item', user('fourth')));
  t.same([tally.turns, tally.title], [2, 'first']);
  const resumed = new TurnTally(tally.turns, tally.title);
  resumed.add(env('event_msg', { type: 'thread_rolled_back', num_turns: 9 }));
  t.same([resumed.turns, resumed.title], [0, 'first']);
});
