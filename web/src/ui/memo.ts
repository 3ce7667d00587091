/** A component that renders again only when a prop changes (by identity): preact/compat's memo, without compat. */
import { Component, type ComponentChild } from "preact";

export function memo<P extends object>(render: (props: P) => ComponentChild) {
  return class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const prev = this.props as Record<string, unknown>;
      const now = next as Record<string, unknown>;
      for (const k in now) if (k !== "children" && prev[k] !== now[k]) return true;
      for (const k in prev) if (!(k in now)) return true;
      return false;
    }
    override render(props: P): ComponentChild {
      return render(props);
    }
  };
}
