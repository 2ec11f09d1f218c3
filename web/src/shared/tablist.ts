import type { KeyboardEvent } from 'react';

/**
 * Keyboard for a `role="tablist"` (WAI-ARIA tabs pattern): ArrowLeft/ArrowRight (and Up/Down) move to the previous
 * or next tab, Home and End to the first and last; the tab reached is focused and activated. Put it on the tablist's
 * onKeyDown and give the selected tab tabIndex 0, the others -1.
 */
export function onTablistKeyDown(e: KeyboardEvent<HTMLElement>): void {
  const tabs = [...e.currentTarget.querySelectorAll<HTMLElement>('[role="tab"]:not([disabled])')];
  const current = tabs.indexOf(document.activeElement as HTMLElement);
  if (current < 0 || tabs.length === 0) return;
  let next = current;
  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = (current + 1) % tabs.length;
  else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = (current - 1 + tabs.length) % tabs.length;
  else if (e.key === 'Home') next = 0;
  else if (e.key === 'End') next = tabs.length - 1;
  else return;
  e.preventDefault();
  tabs[next]!.focus();
  tabs[next]!.click();
}
