// Prints, as JSON, the shapes of the protocol types in src/protocol/ (field
// names, which are optional, and the `type` tag of each member of a union),
// read with TypeScript's own type checker. tests/test_protocol_types.py
// compares them with the Python SDK's pydantic JSON Schema, so a field the
// SDK renames, adds as required, or an event type it adds fails the suite.
//
//   node scripts/protocol-shapes.mjs  ->  {"ThreadItem": {...}, ...}
//
// A shape is {kind: "object", props: {name: {optional, shape}}},
// {kind: "union", members: {tag: shape}}, or null (a leaf: a string, a
// free-form record, or a widget type, which @openai/chatkit owns). A list
// has the shape of its items.
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const FILES = ["types.ts", "requests.ts"].map((f) => path.resolve(here, "../src/protocol", f));
const MAX_DEPTH = 4;

const program = ts.createProgram(FILES, { strict: true, target: ts.ScriptTarget.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext, skipLibCheck: true });
const checker = program.getTypeChecker();

/** The constituents of a type, without `null` and `undefined` (optional or nullable fields). */
function constituents(type) {
  const all = type.isUnion() ? type.types : [type];
  return all.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
}

function fromChatKitJs(type) {
  const decl = (type.aliasSymbol ?? type.getSymbol?.())?.declarations?.[0];
  return !!decl && decl.getSourceFile().fileName.includes("@openai/chatkit/");
}

function isPlainObject(type) {
  if (!(type.flags & ts.TypeFlags.Object)) return false;
  if (checker.isArrayType(type) || checker.isTupleType(type)) return false;
  if (type.getCallSignatures().length) return false;
  return type.getProperties().length > 0;
}

function tagsOf(type) {
  const prop = type.getProperty("type");
  if (!prop) return [];
  const t = checker.getTypeOfSymbol(prop);
  const literals = t.isUnion() ? t.types : [t];
  return literals.every((l) => l.isStringLiteral()) ? literals.map((l) => l.value) : [];
}

function describe(whole, depth) {
  if (depth > MAX_DEPTH || fromChatKitJs(whole)) return null;
  // A list has the shape of its items (JSON Schema's "items").
  if (checker.isArrayType(whole)) return describe(checker.getTypeArguments(whole)[0], depth);
  const types = constituents(whole);
  if (types.length === 0) return null;
  if (types.some(fromChatKitJs)) return null;
  if (types.length > 1) {
    const objects = types.filter(isPlainObject);
    if (objects.length !== types.length) return null;
    const members = {};
    for (const member of objects) {
      const tags = tagsOf(member);
      if (!tags.length) return null;
      for (const tag of tags) members[tag] = describe(member, depth);
    }
    return { kind: "union", members };
  }
  const type = types[0];
  if (!isPlainObject(type)) return null;
  const props = {};
  for (const symbol of type.getProperties()) {
    const propType = checker.getTypeOfSymbol(symbol);
    props[symbol.name] = {
      optional: (symbol.flags & ts.SymbolFlags.Optional) !== 0,
      shape: symbol.name === "type" ? null : describe(propType, depth + 1),
    };
  }
  return { kind: "object", props };
}

const shapes = {};
for (const file of FILES) {
  const source = program.getSourceFile(file);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const decl = exported.declarations?.[0];
    if (!decl || !(ts.isTypeAliasDeclaration(decl) || ts.isInterfaceDeclaration(decl))) continue;
    if (decl.typeParameters?.length) continue; // generic (Page<T>): checked where it is used
    shapes[exported.name] = describe(checker.getDeclaredTypeOfSymbol(exported), 0);
  }
}
process.stdout.write(JSON.stringify(shapes, null, 1));
