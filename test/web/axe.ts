/** axe-core in the page under test: the accessibility findings of one screen, by impact. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Findings of impact `serious` or `critical` (WCAG 2.x A and AA rules and best practices). */
export async function seriousFindings(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate("typeof window.axe !== 'undefined'")))
    await page.addScriptTag({ content: axeSource });
  const found = (await page.evaluate(`window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  })))`)) as AxeFinding[];
  return found.filter((f) => f.impact === "serious" || f.impact === "critical");
}
