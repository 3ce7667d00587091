/**
 * How fastify validates requests here: with TypeBox's compiler, strictly. A body is checked as sent
 * — no type coercion (a name sent as an array stays an array and is refused), no defaults filled in,
 * no unknown property dropped or kept (it is refused, named). Querystrings and path parameters
 * arrive as strings, so they are converted to the schema's types first (`Value.Convert`), then
 * checked the same way.
 */
import { Kind, type TObject, type TSchema, type TUnion } from "@sinclair/typebox";
import { TypeCompiler, type ValueError } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import type { FastifySchemaCompiler } from "fastify";

/** The shape fastify's error handler reads (ajv's), filled from TypeBox's first error. */
export interface ValidationIssue {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  message: string;
  params: Record<string, unknown>;
}

type Validator = ((data: unknown) => boolean | { value: unknown }) & { errors?: ValidationIssue[] };

/**
 * For a union of objects told apart by a literal `type`: the variant the input's `type` names (its
 * first error is the useful one), or an error on `type` itself when it names none.
 */
function variantFor(schema: TSchema, data: unknown): { schema: TSchema } | { issue: ValidationIssue } {
  if (schema[Kind] !== "Union") return { schema };
  const variants = (schema as TUnion).anyOf;
  const types = variants.map((v) =>
    v[Kind] === "Object" ? (v as TObject).properties.type?.const : undefined,
  );
  if (types.some((t) => typeof t !== "string")) return { schema };
  const type = typeof data === "object" && data !== null ? (data as Record<string, unknown>).type : undefined;
  const i = types.indexOf(type);
  if (i >= 0) return { schema: variants[i] as TSchema };
  return {
    issue: {
      keyword: "union",
      schemaPath: "",
      instancePath: "/type",
      message: `must be one of ${types.join(", ")}`,
      params: {},
    },
  };
}

function issue(e: ValueError | undefined): ValidationIssue {
  if (!e)
    return {
      keyword: "schema",
      schemaPath: "",
      instancePath: "",
      message: "does not match the schema",
      params: {},
    };
  const message = e.message.charAt(0).toLowerCase() + e.message.slice(1);
  return { keyword: String(e.type), schemaPath: "", instancePath: e.path, message, params: {} };
}

const compiledVariants = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();
const compiledFor = (s: TSchema) => {
  let c = compiledVariants.get(s);
  if (!c) {
    c = TypeCompiler.Compile(s);
    compiledVariants.set(s, c);
  }
  return c;
};

export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  if (schema[Kind] === undefined)
    throw new Error(`a ${httpPart ?? "request"} schema must be a TypeBox schema`);
  const compiled = TypeCompiler.Compile(schema);
  const convert = httpPart === "querystring" || httpPart === "params" || httpPart === "headers";
  const validate: Validator = (data) => {
    const value = convert ? Value.Convert(schema, data) : data;
    if (compiled.Check(value)) return convert ? { value } : true;
    const variant = variantFor(schema, value);
    if ("issue" in variant) {
      validate.errors = [variant.issue];
      return false;
    }
    const first = (variant.schema === schema ? compiled : compiledFor(variant.schema)).Errors(value).First();
    validate.errors = [issue(first)];
    return false;
  };
  return validate;
};
