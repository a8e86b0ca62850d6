/** Moving to any other page of the project closes the task panel. */
export { default } from "../default";
