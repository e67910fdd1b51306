// Prints the reliability table after the run: one line per figure row (see figures.ts), numeric
// cells added up across the tests that report the same row, and how long the suite took.
import type { Reporter, TestModule } from 'vitest/node';
import type { Figure } from './figures.js';

interface Row {
  cells: Map<string, number | string>;
  tests: number;
  failed: number;
}

export default class TableReporter implements Reporter {
  private started = Date.now();

  onInit(): void {
    this.started = Date.now();
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows = new Map<string, Row>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const figure: Figure | undefined = test.meta().figure;
        if (!figure) continue;
        const row = rows.get(figure.row) ?? { cells: new Map(), tests: 0, failed: 0 };
        rows.set(figure.row, row);
        row.tests += 1;
        if (test.result().state === 'failed') row.failed += 1;
        for (const [label, value] of figure.cells) {
          const before = row.cells.get(label);
          row.cells.set(label, typeof value === 'number' && typeof before === 'number' ? before + value : value);
        }
      }
    }
    const width = Math.max(0, ...[...rows.keys()].map((r) => r.length));
    const lines = [...rows].map(([name, row]) => {
      const cells = [...row.cells].map(([label, value]) => `${label} ${value}`);
      const verdict = row.failed ? `FAILED (${row.failed} of ${row.tests} tests)` : 'ok';
      return [name.padEnd(width), ...cells, verdict].join(' | ');
    });
    const seconds = ((Date.now() - this.started) / 1000).toFixed(0);
    const out = ['', 'Reliability and security figures', ...lines, `runtime ${seconds} s`, ''].join('\n');
    process.stdout.write(out + '\n');
  }
}
