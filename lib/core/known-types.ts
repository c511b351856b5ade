// The record types Codex writes that the format spec documents (../shared/spec, sections 2.2, 2.4,
// 2.5, 4 and 12): what every reader here has been checked against. The reading core passes any
// other type through untouched, so an unknown one is no error; it is news, and the interop suite's
// drift alarm (test/interop/drift.test.ts) fails on it, naming the type and the Codex that wrote it.
import type { TypeInfo } from './record.js';

/** Envelope `type`s. */
export const RECORD_TYPES: ReadonlySet<string> = new Set([
  'session_meta',
  'response_item',
  'event_msg',
  'turn_context',
  'compacted',
  'inter_agent_communication',
  'inter_agent_communication_metadata',
  'world_state',
  'security_risk_score',
  'token_usage_record',
]);

/** `response_item` payload types (compaction_summary: the alias Codex reads `compaction` by). */
export const RESPONSE_ITEM_TYPES: ReadonlySet<string> = new Set([
  'message',
  'agent_message',
  'reasoning',
  'local_shell_call',
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'tool_search_call',
  'tool_search_output',
  'web_search_call',
  'image_generation_call',
  'compaction',
  'compaction_summary',
  'context_compaction',
  'ghost_snapshot',
]);

/**
 * `event_msg` payload types that are persisted, or were (undo_completed until 2026-04; the extended
 * history's events from 2026-02 to 2026-06), with the aliases Codex accepts on read.
 */
export const EVENT_TYPES: ReadonlySet<string> = new Set([
  'user_message',
  'agent_message',
  'agent_reasoning',
  'agent_reasoning_raw_content',
  'token_count',
  'task_started',
  'turn_started',
  'task_complete',
  'turn_complete',
  'turn_aborted',
  'thread_rolled_back',
  'context_compacted',
  'entered_review_mode',
  'exited_review_mode',
  'patch_apply_end',
  'mcp_tool_call_end',
  'web_search_end',
  'image_generation_end',
  'thread_goal_updated',
  'thread_settings_applied',
  'sub_agent_activity',
  'item_completed',
  'undo_completed',
  'error',
  'guardian_assessment',
  'exec_command_end',
  'view_image_tool_call',
  'dynamic_tool_call_request',
  'dynamic_tool_call_response',
]);

/** `type` or `type/payload type` when the spec does not document it, else null. */
export function undocumented(info: TypeInfo): string | null {
  const t = info.type;
  if (t === undefined) return null;
  if (!RECORD_TYPES.has(t)) return t;
  const known = t === 'response_item' ? RESPONSE_ITEM_TYPES : t === 'event_msg' ? EVENT_TYPES : null;
  return known && info.payloadType !== undefined && !known.has(info.payloadType) ? `${t}/${info.payloadType}` : null;
}
