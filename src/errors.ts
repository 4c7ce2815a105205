// Errors meant for people. `code` is a key of the message catalogue (web/i18n.ts),
// so the same error reads in French or English on a page, in the CLI or in an API.
export class UserError extends Error {
  readonly code: string;
  readonly status: number;
  readonly params: Record<string, string | number>;

  constructor(code: string, status = 400, params: Record<string, string | number> = {}) {
    super(code);
    this.code = code;
    this.status = status;
    this.params = params;
  }
}
