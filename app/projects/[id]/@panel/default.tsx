/** No task panel unless a task was opened from the page beside it. */
export default function NoPanel() {
  return null;
}
