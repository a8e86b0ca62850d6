// One helper for both packages; the daemon's tests cannot import the web app's, so it lives there.
export { makeTempDir } from "../../agent-daemon/test/temp-dir.ts";
