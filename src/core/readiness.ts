/**
 * Why the agent is not ready besides its phase: components that are stuck (a disk buffer that
 * cannot write, say) set a reason under a key they own and clear it when they recover. `/ready`
 * answers 503 with the reasons while there are any, so a stuck node shows in `kubectl get pods`.
 * The core knows no component: keys and texts come from whoever sets them.
 */
export class Readiness {
  private readonly reasons = new Map<string, string>();

  set(key: string, reason: string): void {
    this.reasons.set(key, reason);
  }

  clear(key: string): void {
    this.reasons.delete(key);
  }

  /** The current reasons, oldest first. */
  notReadyBecause(): string[] {
    return [...this.reasons.values()];
  }
}
