import type { Fields } from '../../core/event.js';
import { FieldTemplate } from '../../core/template.js';
import { EventRejected } from './driver.js';
import { checkStrftime, eventDate, hasStrftime, strftime } from './strftime.js';

/**
 * A field template that refuses events missing a referenced field (rather than shipping to
 * `logs-` or `uri//`), and that may also hold strftime directives rendered from the event's
 * `timestamp` (UTC). Date rendering is cached per second of timestamp.
 */
export class EventTemplate {
  private readonly dated: boolean;
  private readonly perDate = new Map<string, FieldTemplate>();
  private lastSecond = '';
  private lastTemplate: FieldTemplate;

  constructor(
    readonly source: string,
    private readonly option: string,
  ) {
    this.dated = hasStrftime(source);
    if (this.dated) checkStrftime(source);
    this.lastTemplate = new FieldTemplate(source);
  }

  get isDynamic(): boolean {
    return this.dated || this.lastTemplate.isDynamic;
  }

  /** `escape` rewrites each rendered field value (see FieldTemplate.render). */
  render(fields: Fields, escape?: (value: string) => string): string {
    const template = this.dated ? this.templateFor(fields.timestamp) : this.lastTemplate;
    let missing: string | undefined;
    const rendered = template.render(fields, (path) => (missing ??= path), escape);
    if (missing !== undefined) throw new EventRejected('template_field_missing', `${this.option}: event has no field "${missing}"`);
    return rendered;
  }

  private templateFor(timestamp: unknown): FieldTemplate {
    // RFC 3339 up to the seconds is the first 19 characters; only UTC ("Z") strings share a cache key safely.
    const second = typeof timestamp === 'string' && timestamp.endsWith('Z') ? timestamp.slice(0, 19) : undefined;
    if (second !== undefined && second === this.lastSecond) return this.lastTemplate;
    const source = strftime(this.source, eventDate(timestamp));
    let template = this.perDate.get(source);
    if (!template) {
      if (this.perDate.size > 1000) this.perDate.clear();
      template = new FieldTemplate(source);
      this.perDate.set(source, template);
    }
    if (second !== undefined) {
      this.lastSecond = second;
      this.lastTemplate = template;
    }
    return template;
  }
}
