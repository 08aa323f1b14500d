/**
 * MACs-versus-latency study: how well does a FLOPs proxy order architectures by their real
 * latency on a device (the paper's motivation), and how well does the table predictor?
 * Produces a JSON report and an SVG scatter plot of measured latency against MACs, with the
 * most misordered pairs linked.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { costOfPlan } from '../model/cost.js';
import { buildPlan } from '../model/plan.js';
import { printArch } from '../space/arch-string.js';
import { misorderedPairs, pearson, spearman } from './correlation.js';
import type { DeviceDescription } from './device.js';
import type { MeasuredArch } from './predictor.js';
import { scatterSvg, shortNumber } from './svg.js';

export interface StudyRow {
  arch: string;
  macs: number;
  params: number;
  measured_ms: number;
  predicted_ms?: number;
  converged: boolean;
}

export interface StudyPair {
  faster_despite_more_macs: StudyRow;
  slower_despite_fewer_macs: StudyRow;
  macs_ratio: number;
  latency_ratio: number;
}

export interface StudyReport {
  space: string;
  device: DeviceDescription;
  samples: number;
  spearman_macs: number;
  spearman_params: number;
  pearson_macs: number;
  /** Predictor vs measured (only with a table). */
  spearman_predictor?: number;
  /** Share of all pairs whose MACs order disagrees with their latency order. */
  discordant_pair_share: number;
  misordered_pairs: StudyPair[];
  rows: StudyRow[];
}

export function studyRows(measured: readonly MeasuredArch[], predict?: (m: MeasuredArch) => number): StudyRow[] {
  return measured.map((m) => {
    const c = costOfPlan(buildPlan(m.arch));
    return {
      arch: printArch(m.arch),
      macs: c.macs,
      params: c.params,
      measured_ms: m.measured_ms,
      ...(predict ? { predicted_ms: predict(m) } : {}),
      converged: m.converged,
    };
  });
}

export function analyzeStudy(space: string, device: DeviceDescription, rows: readonly StudyRow[], top = 10): StudyReport {
  const macs = rows.map((r) => r.macs);
  const lat = rows.map((r) => r.measured_ms);
  let discordant = 0, pairs = 0;
  for (let i = 0; i < rows.length; i++)
    for (let j = i + 1; j < rows.length; j++) {
      const dm = (macs[i] as number) - (macs[j] as number), dl = (lat[i] as number) - (lat[j] as number);
      if (dm === 0 || dl === 0) continue;
      pairs++;
      if (Math.sign(dm) !== Math.sign(dl)) discordant++;
    }
  const hasPred = rows.length > 0 && rows.every((r) => r.predicted_ms !== undefined);
  return {
    space,
    device,
    samples: rows.length,
    spearman_macs: spearman(macs, lat),
    spearman_params: spearman(rows.map((r) => r.params), lat),
    pearson_macs: pearson(macs, lat),
    ...(hasPred ? { spearman_predictor: spearman(rows.map((r) => r.predicted_ms as number), lat) } : {}),
    discordant_pair_share: pairs ? discordant / pairs : 0,
    misordered_pairs: misorderedPairs(macs, lat, top).map((p) => ({
      slower_despite_fewer_macs: rows[p.a] as StudyRow,
      faster_despite_more_macs: rows[p.b] as StudyRow,
      macs_ratio: p.macs_ratio,
      latency_ratio: p.latency_ratio,
    })),
    rows: [...rows],
  };
}

export function studySvg(report: StudyReport): string {
  const pt = (r: StudyRow) => ({ x: r.macs, y: r.measured_ms, label: `${r.arch}\n${r.macs.toLocaleString('en-US')} MACs, ${r.measured_ms.toFixed(4)} ms` });
  const rho = `Spearman(MACs, latency) = ${report.spearman_macs.toFixed(3)}`;
  const pred = report.spearman_predictor !== undefined ? `, Spearman(predictor, latency) = ${report.spearman_predictor.toFixed(3)}` : '';
  return scatterSvg({
    title: `Measured latency vs MACs: ${report.samples} random '${report.space}' archs on ${report.device.id}`,
    xLabel: 'MACs (multiply-accumulates, batch 1)',
    yLabel: 'measured latency (ms)',
    series: [{ name: 'architectures', color: '#1f77b4', points: report.rows.map(pt) }],
    links: report.misordered_pairs.slice(0, 5).map((p) => ({ from: pt(p.slower_despite_fewer_macs), to: pt(p.faster_despite_more_macs) })),
    footnote: `${rho}${pred}; dashed: the 5 most misordered pairs (fewer MACs but slower). ${report.device.cpu}, ${report.device.runtime} ${report.device.runtimeVersion}, ${report.device.threads} thread(s)`,
  });
}

function studyMarkdown(report: StudyReport): string {
  const lines = [
    `# Latency vs MACs: ${report.space} on ${report.device.id}`,
    '',
    `${report.samples} random architectures, measured for real (${report.device.runtime} ${report.device.runtimeVersion}, ${report.device.threads} thread(s), ${report.device.cpu}).`,
    '',
    `- Spearman(MACs, latency): ${report.spearman_macs.toFixed(3)} (Pearson ${report.pearson_macs.toFixed(3)})`,
    `- Spearman(params, latency): ${report.spearman_params.toFixed(3)}`,
    ...(report.spearman_predictor !== undefined ? [`- Spearman(table predictor, latency): ${report.spearman_predictor.toFixed(3)}`] : []),
    `- pairs ordered differently by MACs and by latency: ${(100 * report.discordant_pair_share).toFixed(1)}%`,
    '',
    '![latency vs MACs](latency-vs-macs.svg)',
    '',
    '## Most misordered pairs (fewer MACs, yet slower)',
    '',
    '| slower arch | MACs | ms | faster arch | MACs | ms |',
    '|---|---|---|---|---|---|',
    ...report.misordered_pairs.map(
      (p) =>
        `| \`${p.slower_despite_fewer_macs.arch}\` | ${shortNumber(p.slower_despite_fewer_macs.macs)} | ${p.slower_despite_fewer_macs.measured_ms.toFixed(4)} | \`${p.faster_despite_more_macs.arch}\` | ${shortNumber(p.faster_despite_more_macs.macs)} | ${p.faster_despite_more_macs.measured_ms.toFixed(4)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Writes study.json, latency-vs-macs.svg and README.md into dir; returns the paths. */
export function writeStudy(dir: string, report: StudyReport): { json: string; svg: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, 'study.json'), svg: join(dir, 'latency-vs-macs.svg'), markdown: join(dir, 'README.md') };
  writeFileSync(paths.json, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(paths.svg, studySvg(report));
  writeFileSync(paths.markdown, studyMarkdown(report));
  return paths;
}
