/**
 * Small groups kept in a map (the files of a directory, of a sequence, the checkpoint keys of an
 * inode): almost always one member, so each group is an exact-size array, replaced on change,
 * rather than a Set (W5, 5,000 files: 15,000 one-member Sets, ~170 bytes each against ~56 for
 * an array of one). Adds and removals are rare; lookups and walks are per read round.
 */
export function addToGroup<K, V>(groups: Map<K, readonly V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group === undefined) groups.set(key, [value]);
  else if (!group.includes(value)) groups.set(key, [...group, value]);
}

export function removeFromGroup<K, V>(groups: Map<K, readonly V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group === undefined || !group.includes(value)) return;
  if (group.length === 1) groups.delete(key);
  else groups.set(key, group.filter((member) => member !== value));
}
