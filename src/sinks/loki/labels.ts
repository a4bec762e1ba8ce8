import { getField, parsePath, type FieldPath, type Fields } from '../../core/event.js';
import { FieldTemplate } from '../../core/template.js';

/**
 * Loki stream labels rendered from event fields.
 *
 * Label cardinality: every distinct label set is a separate Loki stream with its own index
 * entries and chunks. Label on bounded values (namespace, container, app, node); never on pod
 * names of short-lived pods, pod UIDs, request ids or anything else that grows with time, or
 * Loki's index and memory grow without bound and ingestion slows (Loki's own limits then refuse
 * pushes with 429 "maximum active stream limit exceeded", which this sink retries). Put
 * high-cardinality data in the line instead. A `prefix_*` key expands an object field into one
 * label per key (pod labels): bounded only if those keys are.
 */
interface LabelRule {
  name: string;
  template: FieldTemplate;
  /** For `prefix_*` keys: the object field to expand. */
  expand?: FieldPath;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export interface RenderedLabels {
  labels: Record<string, string>;
  key: string;
}

export class StreamLabels {
  private readonly rules: LabelRule[];
  /** Field paths the templates read (for remove_label_fields). */
  readonly fieldPaths: FieldPath[] = [];
  /**
   * When every template reads below one top-level field (the usual `kubernetes.*`) and that
   * field holds a frozen object (one per container log file, replaced when metadata changes),
   * the label set is a function of that object: rendered once per object, not per event.
   */
  private readonly sharedRoot: string | undefined;
  private readonly byRoot = new WeakMap<object, RenderedLabels>();

  /** `fallbackLabel`: a stream needs one label, so an empty set becomes `agent="sluice"` (not for structured metadata). */
  constructor(
    labels: Record<string, string>,
    private readonly fallbackLabel = true,
  ) {
    this.rules = Object.entries(labels).map(([name, value]) => {
      const template = new FieldTemplate(value);
      const single = /^\{\{\s*([^}\s]+)\s*\}\}$/.exec(value);
      for (const match of value.matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)) this.fieldPaths.push(parsePath(match[1]!));
      if (name.endsWith('*')) {
        if (!single) throw new Error(`labels."${name}": a wildcard label takes one field template, like "{{ kubernetes.pod_labels }}"`);
        return { name: name.slice(0, -1), template, expand: parsePath(single[1]!) };
      }
      if (!LABEL_NAME.test(name)) throw new Error(`labels."${name}": Loki label names match [a-zA-Z_][a-zA-Z0-9_]*`);
      return { name, template };
    });
    const roots = new Set(this.fieldPaths.map((path) => (path.length > 1 ? path[0] : undefined)));
    this.sharedRoot = roots.size === 1 && !roots.has(undefined) ? [...roots][0] : undefined;
  }

  /**
   * The label set of one event and its canonical key (sorted `name="value"` pairs). A label
   * whose field is missing is left out rather than sent empty (Loki drops empty labels anyway).
   */
  render(fields: Fields): RenderedLabels {
    const root = this.sharedRoot === undefined ? undefined : fields[this.sharedRoot];
    if (root === null || typeof root !== 'object' || !Object.isFrozen(root)) return this.renderNow(fields);
    let rendered = this.byRoot.get(root);
    if (rendered === undefined) {
      rendered = this.renderNow(fields);
      Object.freeze(rendered.labels); // shared by every event of that file
      this.byRoot.set(root, rendered);
    }
    return rendered;
  }

  private renderNow(fields: Fields): RenderedLabels {
    const labels: Record<string, string> = {};
    for (const rule of this.rules) {
      if (rule.expand) {
        const value = getField(fields, rule.expand);
        if (value === null || typeof value !== 'object') continue;
        for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
          if (inner === undefined || inner === null) continue;
          labels[sanitizeLabelName(rule.name + key)] = typeof inner === 'string' ? inner : JSON.stringify(inner);
        }
        continue;
      }
      let missing = false;
      const value = rule.template.render(fields, () => (missing = true));
      if (!missing && value !== '') labels[rule.name] = value;
    }
    if (this.fallbackLabel && Object.keys(labels).length === 0) labels.agent = 'sluice';
    const key = Object.keys(labels)
      .sort()
      .map((name) => `${name}=${JSON.stringify(labels[name])}`)
      .join(',');
    return { labels, key };
  }
}

/** Pod label keys (`app.kubernetes.io/name`) made into valid Loki label names. */
export function sanitizeLabelName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(cleaned) ? '_' + cleaned : cleaned;
}
