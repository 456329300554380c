// The WebAssembly binary encoder shared by the tree engine's kernels (tree/kernels.ts) and the explanation
// walk (explain/table-walk-wasm.ts): LEB128 numbers, sections, named instructions and one module layout
// (an imported memory, functions exported by name). No toolchain and no .wasm file: modules are assembled
// when they are needed.

/** The parts of the WebAssembly API used here (the project's TypeScript settings carry no WebAssembly types). */
export interface WasmApi {
  Memory: {
    new (descriptor: { initial: number; maximum: number; shared: true }): {
      readonly buffer: SharedArrayBuffer;
    };
    new (descriptor: { initial: number; maximum?: number }): { readonly buffer: ArrayBuffer };
  };
  Module: new (bytes: Uint8Array) => object;
  /** Whether `bytes` are a valid module (without compiling it). */
  validate: (bytes: Uint8Array) => boolean;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
}

/** The runtime's WebAssembly, or undefined where it has none. */
export const webAssembly = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
/** Instruction bytes. */
export type Code = number[];

export function unsignedLeb(value: number): Code {
  const out: Code = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

export function signedLeb(value: number): Code {
  const out: Code = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Appends `items` to `out` one by one: a model's unrolled code can be too long to spread into a call. */
export function append(out: Code, items: Code): void {
  for (let i = 0; i < items.length; i++) out.push(items[i]);
}

/** A function body's instructions as one run of bytes (a plain loop: faster than Array.prototype.flat). */
export function joined(instructions: Code[]): Code {
  const out: Code = [];
  for (let i = 0; i < instructions.length; i++) append(out, instructions[i]);
  return out;
}

function vector(items: Code[]): Code {
  const out = unsignedLeb(items.length);
  for (const item of items) append(out, item);
  return out;
}
const section = (id: number, content: Code): Code => [id, ...unsignedLeb(content.length), ...content];
const name = (text: string): Code => vector([...Buffer.from(text, 'utf8')].map((byte) => [byte]));

// ---- instructions
// The tree kernels are assembled when training starts, so the helpers below hand out one shared (never
// modified) array per common instruction instead of building it again: the kernels then take about 11 ms
// to assemble rather than 20. Each helper remembers at most REMEMBERED_MOST values, so the explanation
// walk's per-model thresholds and offsets cannot make a long-running server's memory grow.
const REMEMBERED_MOST = 4096;

/**
 * `make(value)`, made once per value (for the first REMEMBERED_MOST values asked for) and frozen, since
 * every caller shares it. -0 is made afresh each time: a Map takes it for 0, whose double differs.
 */
function remembered(make: (value: number) => Code): (value: number) => Code {
  const made = new Map<number, Code>();
  return (value) => {
    if (Object.is(value, -0)) return make(value);
    let code = made.get(value);
    if (code === undefined) {
      code = Object.freeze(make(value)) as Code;
      if (made.size < REMEMBERED_MOST) made.set(value, code);
    }
    return code;
  };
}

export const get = remembered((local) => [0x20, ...unsignedLeb(local)]);
export const set = remembered((local) => [0x21, ...unsignedLeb(local)]);
export const tee = remembered((local) => [0x22, ...unsignedLeb(local)]);
export const i32 = remembered((value) => [0x41, ...signedLeb(value)]);
export const f64 = remembered((value) => [0x44, ...new Uint8Array(new Float64Array([value]).buffer)]);
export const call = (index: number): Code => [0x10, ...unsignedLeb(index)];
export const eqz = [0x45];
export const eq = [0x46];
export const ne = [0x47];
export const ltS = [0x48];
export const ltU = [0x49];
export const gtS = [0x4a];
export const gtU = [0x4b];
export const leS = [0x4c];
export const geU = [0x4f];
export const f64Eq = [0x61];
export const f64Ne = [0x62];
export const f64Lt = [0x63];
export const f64Gt = [0x64];
export const f64Ge = [0x66];
export const add = [0x6a];
export const sub = [0x6b];
export const mul = [0x6c];
export const remU = [0x70];
export const and = [0x71];
export const or = [0x72];
export const xor = [0x73];
export const shl = [0x74];
export const shrS = [0x75];
export const shrU = [0x76];
export const rotl = [0x77];
export const f64Neg = [0x9a];
export const f64Floor = [0x9c];
export const f64Nearest = [0x9e];
export const f64Add = [0xa0];
export const f64Sub = [0xa1];
export const f64Mul = [0xa2];
export const f64Div = [0xa3];
export const f64Min = [0xa4];
export const f64Max = [0xa5];
export const i32TruncF64 = [0xaa];
export const i32TruncF64Unsigned = [0xab];
export const f64FromSigned = [0xb7];
export const f64FromUnsigned = [0xb8];
export const select = [0x1b];
/** A memory instruction: its opcode, alignment (log2 bytes) and `offset`. */
const memoryAccess = (opcode: number, align: number): ((offset?: number) => Code) => {
  const at = remembered((offset) => [opcode, align, ...unsignedLeb(offset)]);
  return (offset = 0) => at(offset);
};
export const load8 = memoryAccess(0x2d, 0);
export const load16 = memoryAccess(0x2f, 1);
export const load32 = memoryAccess(0x28, 2);
export const loadF64 = memoryAccess(0x2b, 3);
export const store8 = memoryAccess(0x3a, 0);
export const store16 = memoryAccess(0x3b, 1);
export const store32 = memoryAccess(0x36, 2);
export const storeF64 = memoryAccess(0x39, 3);
// two doubles at a time (128-bit SIMD; addresses need only a double's alignment)
export const v128Load = (offset = 0): Code => [0xfd, 0x00, 3, ...unsignedLeb(offset)];
export const v128Store = (offset = 0): Code => [0xfd, 0x0b, 3, ...unsignedLeb(offset)];
export const f64x2Splat = [0xfd, ...unsignedLeb(0x14)];
export const f64x2ExtractLane = (lane: number): Code => [0xfd, ...unsignedLeb(0x21), lane];
export const f64x2ReplaceLane = (lane: number): Code => [0xfd, ...unsignedLeb(0x22), lane];
/** A vector of bytes `lanes` (0-15 from the first operand, 16-31 from the second). */
export const i8x16Shuffle = (lanes: number[]): Code => [0xfd, ...unsignedLeb(0x0d), ...lanes];
export const f64x2Nearest = [0xfd, ...unsignedLeb(0x94)];
export const f64x2Neg = [0xfd, ...unsignedLeb(0xed)];
export const f64x2Add = [0xfd, ...unsignedLeb(0xf0)];
export const f64x2Sub = [0xfd, ...unsignedLeb(0xf1)];
export const f64x2Mul = [0xfd, ...unsignedLeb(0xf2)];
export const f64x2Div = [0xfd, ...unsignedLeb(0xf3)];
/** b < a ? b : a (one instruction; f64x2.min would also order -0 below 0 and carry NaN from either side). */
export const f64x2Pmin = [0xfd, ...unsignedLeb(0xf6)];
/** a < b ? b : a. */
export const f64x2Pmax = [0xfd, ...unsignedLeb(0xf7)];
export const block = [0x02, 0x40];
export const loop = [0x03, 0x40];
export const ifThen = [0x04, 0x40];
export const end = [0x0b];
export const branchIf = remembered((depth) => [0x0d, ...unsignedLeb(depth)]);
export const memoryFill = [0xfc, 0x0b, 0x00];
export const memoryCopy = [0xfc, 0x0a, 0x00, 0x00];

/**
 * Random.nextUint32 (xoshiro128**), operation for operation, over the state in locals s0..s3 into local
 * `result` (`t` is scratch): the same 32 bits as the generator in JavaScript.
 */
export function xoshiroNext(locals: {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  t: number;
  result: number;
}): Code[] {
  const { s0, s1, s2, s3, t, result } = locals;
  // prettier-ignore
  return [
    get(s1), i32(5), mul, i32(7), rotl, i32(9), mul, set(result),
    get(s1), i32(9), shl, set(t),
    get(s2), get(s0), xor, set(s2),
    get(s3), get(s1), xor, set(s3),
    get(s1), get(s2), xor, set(s1),
    get(s0), get(s3), xor, set(s0),
    get(s2), get(t), xor, set(s2),
    get(s3), i32(11), rotl, set(s3),
  ];
}

/** The generator's four 32-bit state words at the address in local `state` into locals s0..s3. */
export function xoshiroLoad(
  state: number,
  words: { s0: number; s1: number; s2: number; s3: number },
): Code[] {
  const { s0, s1, s2, s3 } = words;
  // prettier-ignore
  return [
    get(state), load32(0), set(s0),
    get(state), load32(4), set(s1),
    get(state), load32(8), set(s2),
    get(state), load32(12), set(s3),
  ];
}

/** Locals s0..s3 back into the four words at the address in local `state` (see xoshiroLoad). */
export function xoshiroStore(
  state: number,
  words: { s0: number; s1: number; s2: number; s3: number },
): Code[] {
  const { s0, s1, s2, s3 } = words;
  // prettier-ignore
  return [
    get(state), get(s0), store32(0),
    get(state), get(s1), store32(4),
    get(state), get(s2), store32(8),
    get(state), get(s3), store32(12),
  ];
}

/**
 * `for (; i < stop; i++) body` over locals `i` and `stop` (unsigned), `i` set before it: nothing runs
 * when i >= stop. Inside `body`, branch depth 0 is the loop (continue) and 1 the block around it (break).
 */
export function countedLoop(i: number, stop: number, body: Code[]): Code[] {
  // prettier-ignore
  return [
    block,
    get(i), get(stop), geU, branchIf(0),
    loop,
    ...body,
    get(i), i32(1), add, tee(i), get(stop), ltU, branchIf(0),
    end,
    end,
  ];
}

/** One function of a module: exported under `name` when it has one; functions call each other by position. */
export interface ModuleFunction {
  name?: string;
  params: number[];
  results: number[];
  /** Types of the locals after the parameters. */
  locals: number[];
  /** Its code, without the final `end`. */
  body: Code;
}

/**
 * A module importing `env.memory`, shared (up to 4 GiB, for threads) or not, holding `functions`.
 */
export function encodeModule(functions: ModuleFunction[], memory: { shared: boolean }): Uint8Array {
  // one type per distinct signature
  const signatures: string[] = [];
  const typeOf = functions.map(({ params, results }) => {
    const signature = `${params.join(',')}>${results.join(',')}`;
    const known = signatures.indexOf(signature);
    return known >= 0 ? known : signatures.push(signature) - 1;
  });
  const types = signatures.map((signature) => {
    const [params, results] = signature
      .split('>')
      .map((list) => (list === '' ? [] : list.split(',').map(Number)));
    return [0x60, ...vector(params.map((type) => [type])), ...vector(results.map((type) => [type]))];
  });
  const limits = memory.shared ? [0x03, ...unsignedLeb(1), ...unsignedLeb(65536)] : [0x00, ...unsignedLeb(1)];
  const bytes: Code = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  append(bytes, section(1, vector(types)));
  append(bytes, section(2, vector([[...name('env'), ...name('memory'), 0x02, ...limits]])));
  append(bytes, section(3, vector(typeOf.map((type) => unsignedLeb(type)))));
  const exported = functions.flatMap((fn, index) =>
    fn.name === undefined ? [] : [[...name(fn.name), 0x00, ...unsignedLeb(index)]],
  );
  append(bytes, section(7, vector(exported)));
  const codes: Code = unsignedLeb(functions.length);
  for (const { locals, body } of functions) {
    const head = vector(locals.map((type) => [1, type]));
    append(codes, unsignedLeb(head.length + body.length + 1));
    append(codes, head);
    append(codes, body);
    append(codes, end);
  }
  append(bytes, [10, ...unsignedLeb(codes.length)]);
  append(bytes, codes);
  return Uint8Array.from(bytes);
}
