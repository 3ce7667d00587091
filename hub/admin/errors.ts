/** Input a person gave (API body, CLI, CSV) that cannot be used: names the field, carries the HTTP status. */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(
    readonly field: string,
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(`${field}: ${message}`);
  }
}
