import { createUniqueId, type JSX, onCleanup, onMount } from 'solid-js';
import { Icon } from './Icon';

/**
 * A modal dialog on the native <dialog>: the browser traps focus, makes the
 * page behind inert, and moves focus in (to the `autofocus` element). Escape
 * and a click on the backdrop close it; focus returns where it was.
 */
export function Dialog(props: { title: string; onClose: () => void; children: JSX.Element }) {
  let el!: HTMLDialogElement;
  const titleId = createUniqueId();
  const opener = document.activeElement as HTMLElement | null;

  onMount(() => {
    // A click on the backdrop lands on the <dialog> itself; its content is inside .dialog-body.
    // (The keyboard way out is Escape, the `cancel` event below.)
    el.addEventListener('click', (e) => {
      if (e.target === el) props.onClose();
    });
    el.showModal();
    // The browser focuses the first focusable element; prefer the field the dialog is for.
    el.querySelector<HTMLElement>('[data-autofocus]')?.focus();
  });
  onCleanup(() => {
    if (el.open) el.close();
    if (opener?.isConnected) opener.focus();
  });

  return (
    <dialog
      ref={el}
      class="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div class="dialog-body">
        <div class="dialog-head">
          <h2 id={titleId}>{props.title}</h2>
          <button class="btn btn-icon" type="button" aria-label="Close" onClick={props.onClose}>
            <Icon name="close" size={18} />
          </button>
        </div>
        {props.children}
      </div>
    </dialog>
  );
}
