import type { CertificateProblem } from "../../protocol/api.js";
import type { Engineer, Site } from "./model.js";
import { localDate } from "./time.js";

export type { CertificateProblem };

/** Which of the site's required certificates the engineer lacks on the site-local day of `at`. */
export function certificateProblems(
  engineer: Engineer,
  site: Pick<Site, "requiredCertificates" | "timeZone">,
  at: number,
): CertificateProblem[] {
  const day = localDate(at, site.timeZone);
  const problems: CertificateProblem[] = [];
  for (const kind of site.requiredCertificates) {
    const held = engineer.certificates.filter((c) => c.kind === kind);
    if (held.length === 0) {
      problems.push({ kind, problem: "missing" });
      continue;
    }
    const latest =
      held
        .map((c) => c.validUntil)
        .sort()
        .at(-1) ?? "";
    if (latest < day) problems.push({ kind, problem: "expired", validUntil: latest });
  }
  return problems;
}
