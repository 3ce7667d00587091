/** Small form parts the management screens share. */
import { cloneElement, type VNode } from "preact";
import { useId } from "preact/hooks";

/** A labelled control: the label points at its one child control by id (the child's own, if it has one). */
export function Field({ label, children, wide }: { label: string; children: VNode; wide?: boolean }) {
  const generated = useId();
  const id = (children.props as { id?: string }).id ?? generated;
  return (
    <div class={wide ? "field wide" : "field"}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id })}
    </div>
  );
}

/** A group of checkboxes named `name`, one per option. */
export function Checks({
  legend,
  name,
  options,
  checked,
}: {
  legend: string;
  name: string;
  options: Array<[string, string]>;
  checked: readonly string[];
}) {
  return (
    <fieldset class="checks wide">
      <legend>{legend}</legend>
      {options.map(([value, label]) => (
        <label key={value} class="check">
          <input type="checkbox" name={name} value={value} defaultChecked={checked.includes(value)} />
          {label}
        </label>
      ))}
    </fieldset>
  );
}

export function Result({ result, id }: { result: { ok: boolean; text: string } | null; id: string }) {
  if (!result) return null;
  return (
    <p role={result.ok ? "status" : "alert"} class={result.ok ? "ok" : "error"} id={id}>
      {result.text}
    </p>
  );
}
