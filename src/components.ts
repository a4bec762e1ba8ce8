// Every component, registered: for what needs them all (the JSON Schema, the reference docs, tests).
// The list is src/component-catalog.ts; the agent loads only the types its config uses.
import { loadAllComponents } from './core/registry.js';
import './component-catalog.js';

await loadAllComponents();
