#!/usr/bin/env node
import { main, single } from '../lib/cli/main.js';
import { LISTING_OPTIONS, listingForm } from '../lib/cli/options.js';
import { EXIT_OK, UsageError, warn } from '../lib/cli/errors.js';
import { stdout } from '../lib/cli/output.js';
import { codexHome } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';
import { usageFiles } from '../lib/index/query.js';
import { shortener } from '../lib/index/table.js';
import { openFresh } from '../lib/index/update.js';
import { parseSelection, SELECTION_OPTIONS } from '../lib/select/options.js';
import { PRICES_AS_OF, Pricing } from '../lib/usage/prices.js';
import { Calendar, GROUPINGS, jsonRow, parseBy, report, totalRow } from '../lib/usage/report.js';
import { usageTable } from '../lib/usage/table.js';

await main({
  name: 'rollout-usage',
  usage: '[options]',
  summary: 'Token usage and cost of the sessions, each model response counted once',
  details: [
    'Adds up what the chosen sessions asked of the model, from the usage the index gathers while it reads each file (brought up to date first, as rollout-ls does): input, cached input, output and reasoning tokens, and their cost. Each response is counted once: repeated records once, history a fork or sub-agent copied from its parent only in the parent. Archived sessions count unless --active says otherwise.',
    `Costs come from a price table bundled with rollout (LiteLLM's prices as of ${PRICES_AS_OF}) or --pricing FILE; nothing is fetched. A model the table does not price has a null cost, and one warning.`,
    'NDJSON, one group a line and the total last, when stdout is not a terminal; a table when it is.',
  ],
  options: [
    ...SELECTION_OPTIONS,
    ['--by <groups>', 'day, week, month, session, model, cwd or source; several with commas, as day,model (default day)', undefined, GROUPINGS],
    ['--tz <zone>', 'The time zone of days, weeks and months: UTC, Europe/Berlin, ... (default: the local one)'],
    ['--pricing <file>', "Prices in LiteLLM's price-file shape, over the bundled ones (model by model)"],
    ['--offline', 'Accepted for scripts written for other tools: rollout-usage never uses the network'],
    ...LISTING_OPTIONS,
  ],
  examples: [
    'rollout-usage',
    'rollout-usage --since 7d --by day,model',
    'rollout-usage --by session --since 2026-12-01 --tz UTC',
    'rollout-usage --by month --pricing prices.json --json',
  ],
  async run(args, o) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}'`);
    const by = parseBy(single(o.by));
    const cal = new Calendar(single(o.tz));
    const filters = parseSelection(o, 'include');
    // --until ends the counting, not the sessions: one active across it still used tokens before it.
    const window = { since: filters.since, until: filters.until };
    delete filters.until;
    const pricingFile = single(o.pricing);
    const pricing = pricingFile === undefined ? Pricing.bundled() : Pricing.bundled().withFile(pricingFile);
    const form = listingForm(o);
    const home = codexHome(single(o.codexHome));
    const db = await openFresh(home, indexPath(home, single(o.index)), o.update !== false);
    try {
      const r = report(usageFiles(db, filters), by, cal, pricing, window);
      for (const u of r.unpriced)
        warn(
          `no price for model ${u.model ?? '(unknown)'}${u.tier ? ` at tier ${u.tier}` : ''} (${u.total.toLocaleString('en-US')} tokens): its cost is null; give --pricing FILE`,
        );
      if (form.table) {
        const ids = by.includes('session') ? r.groups.map((g) => ({ id: g.key.session! })) : [];
        for (const l of usageTable(by, r, { shortId: shortener(db, ids), color: form.color })) stdout.line(l);
      } else {
        for (const g of r.groups) stdout.json(jsonRow(g));
        stdout.json(totalRow(r.total));
      }
    } finally {
      db.close();
    }
    return EXIT_OK;
  },
});
