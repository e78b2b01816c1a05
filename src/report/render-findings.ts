/** The change's findings, the readiness table and the plan, as HTML. */
import { esc } from './escape.js';
import type { FindingView, ObjectView, PlanView, ReadinessView, StepView } from './model.js';

/** The most findings drawn per object, per readiness scope and per blocked scope; `check` and `plan` list them all. */
export const MAX_FINDINGS = 500;
/** Blocking connections listed per readiness scope. */
export const MAX_BLOCKING = 5;
/** Plans with more steps than this show each step's manifest folded. */
export const OPEN_MANIFESTS = 12;

/** One finding, with the words `mtls-guard check` prints: severity, code, evidence, message, why, clients, evidence, fix. */
export function renderFinding(f: FindingView): string {
  const clients =
    f.clients.length > 0
      ? `<dt>clients</dt><dd>${esc(f.clients.slice(0, 10).join(', '))}${f.clients.length > 10 ? esc(`, and ${f.clients.length - 10} more`) : ''}</dd>`
      : '';
  return `<div class="finding sev-${esc(f.severity)}">
<p><span class="sev">${esc(f.severity)}</span> <code>${esc(f.code)}</code> <span class="ev">${esc(f.evidence)}</span> ${esc(f.message)}</p>
<dl>${f.reason !== null ? `<dt>why</dt><dd>${esc(f.reason)}</dd>` : ''}${clients}${f.evidenceDetail !== null ? `<dt>evidence</dt><dd>${esc(f.evidenceDetail)}</dd>` : ''}<dt>fix</dt><dd class="fix">${esc(f.fix)}</dd></dl>
</div>`;
}

function findingList(fs: readonly FindingView[], max: number, more: string): string {
  const shown = fs.slice(0, max).map(renderFinding).join('\n');
  return fs.length > max ? `${shown}\n<p class="note">${esc(`and ${fs.length - max} more; ${more}`)}</p>` : shown;
}

function objectState(o: ObjectView): string {
  if (!o.allowed) return 'DENIED';
  return o.wouldDeny ? `ALLOWED (mode ${o.mode}; would be denied in enforce)` : 'ALLOWED';
}

/** The verdict on each object of the change, judged in series as `mtls-guard check` judges them. */
export function renderChange(objects: readonly ObjectView[], denyOn: string): string {
  const denied = objects.filter((o) => !o.allowed).length;
  const parts = objects.map((o) => {
    const breaks = o.findings.filter((f) => f.reason !== null).length;
    const notes = o.notes.map((n) => `<p class="note">note: ${esc(n)}</p>`).join('\n');
    return `<article class="object ${o.allowed ? 'allowed' : 'denied'}">
<h3>${esc(o.summary)}: <span class="verdict">${esc(objectState(o))}</span></h3>
<p>${breaks} breaking connection finding(s), deny on ${esc(denyOn)}, mode ${esc(o.mode)}</p>
${notes}
${o.findings.length ? findingList(o.findings, MAX_FINDINGS, 'mtls-guard check lists them all') : '<p>No findings.</p>'}
</article>`;
  });
  return `${parts.join('\n')}\n<p class="total">${denied} of ${objects.length} object(s) denied.</p>`;
}

function readinessState(r: ReadinessView): { text: string; cls: string } {
  if (r.already) return { text: 'already STRICT', cls: 'ready' };
  if (r.ready) return { text: 'ready', cls: 'ready' };
  return { text: `blocked by ${r.blocking.length} connection(s)`, cls: 'blocked' };
}

/** Per namespace, then the mesh: ready for STRICT, or blocked by the connections it would break. */
export function renderReadiness(namespaces: readonly ReadinessView[], mesh: ReadinessView, denyOn: string): string {
  const row = (r: ReadinessView): string => {
    const s = readinessState(r);
    const list = r.blocking.length
      ? `<details><summary>${r.blocking.length} blocking connection(s)</summary><ul>${r.blocking
          .slice(0, MAX_BLOCKING)
          .map((f) => `<li><code>${esc(f.code)}</code> ${esc(f.evidence)} ${esc(f.message)}</li>`)
          .join('')}${r.blocking.length > MAX_BLOCKING ? `<li>and ${r.blocking.length - MAX_BLOCKING} more</li>` : ''}</ul></details>`
      : '';
    return `<tr><th scope="row">${esc(r.scope)}</th><td class="${s.cls}">${esc(s.text)}</td><td>${list}</td></tr>`;
  };
  return `<table class="readiness">
<caption>Would the PeerAuthentication that makes the scope STRICT be allowed (deny on ${esc(denyOn)})?</caption>
<thead><tr><th scope="col">scope</th><th scope="col">readiness</th><th scope="col">what blocks it</th></tr></thead>
<tbody>
${[...namespaces, mesh].map(row).join('\n')}
</tbody></table>`;
}

function stepItem(s: StepView, open: boolean): string {
  const verified = s.verified === null ? '' : s.verified ? ' (verified)' : ' (not verified: check it then)';
  const manifest =
    s.manifest !== null
      ? `\n<details${open ? ' open' : ''}><summary>manifest (for kubectl apply -f -)</summary><pre>${esc(s.manifest)}</pre></details>`
      : '';
  return `<li><span class="step-kind">[${esc(s.kind)}]</span> <b>${esc(s.scope)}</b>: ${esc(s.says)}${esc(verified)}${manifest}</li>`;
}

/** The plan's steps in order, each with its manifest, then the scopes that stay blocked. */
export function renderPlan(p: PlanView): string {
  const open = p.steps.length <= OPEN_MANIFESTS;
  const steps = p.steps.length ? `<ol class="steps">\n${p.steps.map((s) => stepItem(s, open)).join('\n')}\n</ol>` : '<p>Nothing to do.</p>';
  const blocked = p.blocked
    .map(
      (
        b,
      ) => `<div class="blocked-scope"><h3>blocked: ${esc(b.scope)}: ${b.findings.length} connection(s) no fix the engine can apply clears</h3>
${findingList(b.findings, MAX_BLOCKING, 'mtls-guard plan lists them all')}
${b.needs.length ? `<ul>${b.needs.map((n) => `<li>a person can: ${esc(n)}</li>`).join('')}</ul>` : ''}</div>`,
    )
    .join('\n');
  return `<p>${p.complete ? 'Plan to mesh-wide STRICT (each step judged on top of the ones before):' : 'Plan (it does not reach mesh-wide STRICT):'}</p>
${steps}
${blocked}`;
}
