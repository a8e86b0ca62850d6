/**
 * A request the daemon refuses, with the HTTP status and the stable error code the web app reacts
 * to. Its message is shown to users, so it names the field or the reason and never carries secrets.
 */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "RequestError";
  }
}
