import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PodLogPathFilter, type PathFilterOptions } from './path-filter.js';
import { parsePodLogPath } from './pod-log-path.js';

const none: PathFilterOptions = {
  includePathGlobs: [],
  excludePathGlobs: [],
  includeNamespaces: [],
  excludeNamespaces: [],
  includePodNames: [],
  excludePodNames: [],
  includeContainerNames: [],
  excludeContainerNames: [],
};

function accepts(options: Partial<PathFilterOptions>, path: string): boolean {
  return new PodLogPathFilter({ ...none, ...options }).accepts(path, parsePodLogPath(path)!);
}

const app = '/var/log/pods/shop_web-7d9f_uid1/nginx/0.log';
const system = '/var/log/pods/kube-system_coredns-1_uid2/coredns/0.log';

test('no filter accepts everything', () => {
  assert.ok(accepts({}, app));
  assert.ok(accepts({}, system));
});

test('path globs', () => {
  assert.ok(accepts({ includePathGlobs: ['/var/log/pods/shop_*/**'] }, app));
  assert.ok(!accepts({ includePathGlobs: ['/var/log/pods/shop_*/**'] }, system));
  assert.ok(!accepts({ excludePathGlobs: ['**/nginx/*'] }, app));
  assert.ok(accepts({ excludePathGlobs: ['**/nginx/*'] }, system));
});

test('namespace, pod and container lists (globs), exclude wins', () => {
  assert.ok(!accepts({ excludeNamespaces: ['kube-*'] }, system));
  assert.ok(accepts({ excludeNamespaces: ['kube-*'] }, app));
  assert.ok(accepts({ includeNamespaces: ['shop'] }, app));
  assert.ok(!accepts({ includeNamespaces: ['shop'] }, system));
  assert.ok(!accepts({ includePodNames: ['web-*'], excludePodNames: ['web-7d9f'] }, app));
  assert.ok(accepts({ includeContainerNames: ['nginx', 'envoy'] }, app));
  assert.ok(!accepts({ excludeContainerNames: ['nginx'] }, app));
});
