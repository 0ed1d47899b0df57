// The memory layout of the compiled policy, named once: every word the compiler (gate-index.ts)
// and the index's upkeep (policy-index.ts, addr-table.ts) write, and the verdict path
// (compiled-policy.ts) reads. Each group compiles, per direction, into int32 words (no objects,
// no strings, no pointers to chase) in two shared arenas: a hot one with what nearly every lookup
// reads, and a cold one with what few do. Offsets inside a blob are relative to its start.
//
//   hot blob (starting on a cache line, LINE words): the header, HDR words (H_…), then the port
//     entries of tcp (its summary and its filter's first words, for ports below 8192, in the
//     header's line), udp, icmp and icmpv6, then the all-protocol segment (read only past the
//     address filter), then the entries of other protocols and their table (OT_…): most lookups
//     read the header and a filter word, in the blob's first line, and nothing else
//   port entry (E_…; the header's offset is that of its filter): ENTRY_SUM words before it sum up
//     what its rules admit whatever the port (E_SUM_…, see gate-index.ts `entrySummary`), so that
//     a remote none of them admits stops at the header's test even on a covered port; then its
//     filter (PORT_MAP words: bit k set when some rule covers a point of [64k, 64k+63] of the
//     protocol's port space — ICMP: type*256+code — so a lookup of an uncovered port stops at one
//     word), the port index's offset in the cold blob, the number of chunks c, per chunk of
//     1 << CHUNK_BITS points up to the last point covered its (filter, peers) pair (C_…: a finer
//     filter, bit b set when some rule covers a point of its [8b, 8b+7], and what the chunk's rules
//     admit, see `chunkPeer`) side by side, so that a lookup past the filter reads one more hot
//     line and only a remote the chunk's rules may admit goes on to the cold index; then the
//     index of each chunk's first bound among the cold index's (c + 1 words: n past the last)
//   cold blob: [COLD_OTHERS: where the table of other protocols is in the hot blob, or 0], the
//     port indexes [n, (bound, segment) × n] (PI_…: bound k starts the stretch of the port space
//     that segment k covers, segment 0 = nothing allowed; a lookup scans the few bounds of its
//     chunk, one outside 0..65535 bisects them all), then their segments
//   segment (S_…, R_…, P_…): [n4, (lo, hi) × n4, nRefs, the references' mask, group handles…,
//     nPl, prefix-list handles…, v6]: IPv4 ranges merged and sorted, stored with the sign bit
//     flipped (`flip4`: int32 order is address order); group references and prefix lists as
//     interned handles (with the union of the references' `groupBit`s, a one-word filter); v6 an
//     index into the group direction's side list of IPv6 sets (NO_V6 = none)
//
// A lookup tests the header's line once (address filter, references' mask against a superset of
// the remote's, what the segment holds, the port filter's word: see CompiledPolicy.allowsAt) and
// only past that test reads the segment, the chunk's finer filter and, for a covered port, a few
// bounds and a segment.
//
// The engine's files copy what they use into module constants of their own
// (`const { H_ALL, … } = layout;`): V8 folds a module's own constants into the code as
// immediates (and so the bundle's never-reassigned top-level vars), while an imported binding is
// read through its cell and checked at each use. To see it: `node --import tsx --print-opt-code
// --print-opt-code-filter=allowsAt bench/engine.ts` shows no `<Cell value= …>` of a number.

// ---- the hot blob's header ----------------------------------------------------------------

/** Words of the header (an empty blob is HDR zero words: nothing allowed). */
export const HDR = 9;
/** The all-protocol ('-1') rules' segment (its offset in ALL_SEGMENT's bits, 0 = none) | ALL_HAS_… */
export const H_ALL = 0;
export const ALL_SEGMENT = 0xffff;
/** In H_ALL, above the segment's offset: it holds prefix lists, IPv6 ranges. */
export const ALL_HAS_PL = 1 << 16;
export const ALL_HAS_V6 = 2 << 16;
/** The port entries of tcp | of udp in the high half; of icmp | of icmpv6 in the high half (0 = none). */
export const H_TCP_UDP = 1;
export const H_ICMP = 2;
/** A port entry's offset in its header word: the bits of ENTRY_OFFSET, shifted up by HIGH_HALF for udp and icmpv6. */
export const ENTRY_OFFSET = 0xffff;
export const HIGH_HALF = 16;
/**
 * The all-protocol segment's IPv4 filters. A remote passes when its /16 block's bit is set in
 * H_ADDR_MAP (two words: every block its ranges meet, modulo 64, see `addressBit`; all bits for a
 * range of 64 blocks or more) and either its block's bit in H_ADDR_WIDE (the blocks of its wide
 * ranges, those meeting more than a few /20 blocks, see `wideBit`; all bits for a range of 32
 * blocks or more) or its /20 block's bit in H_ADDR_NARROW (the /20 blocks of its narrow ranges,
 * see `narrowBit`). So a remote whose /16 block holds only narrow ranges elsewhere in the block
 * stops at the header.
 */
export const H_ADDR_WIDE = 3;
export const H_ADDR_MAP = 5;
export const H_ADDR_NARROW = 7;
/** The all-protocol segment's references' masks (their `groupBit`s, `groupBitB`s; 0 = none). */
export const H_ALL_REFS = 4;
export const H_ALL_REFS_B = 8;
/**
 * The "entry word" of the protocols without an entry in the header (theirs are in the table of
 * other protocols): a header word holding no entry, read by the verdict path and masked out.
 */
export const H_OTHERS = H_ADDR_WIDE;

/** The bit of an IPv4 address in H_ADDR_MAP (its word: H_ADDR_MAP + (bit >>> 5)): its /16 block, modulo 64. */
export const addressBit = (v: number) => (v >>> 16) & 63;
/** Its bit in H_ADDR_WIDE: its /16 block, hashed. */
export const wideBit = (v: number) => ((v >>> 16) ^ (v >>> 21)) & 31;
/** Its bit in H_ADDR_NARROW: its /20 block, hashed (the 16 of a /16 block on 16 bits). */
export const narrowBit = (v: number) => ((v >>> 12) ^ (v >>> 16) ^ (v >>> 21)) & 31;

/** A group handle's bit in a one-word filter of groups. */
export const groupBit = (g: number) => 1 << (g & 31);
/**
 * A second bit of a group handle (from its next five bits): a reference filter tests both masks,
 * so that it tells apart up to 1024 groups where one word alone tells apart 32.
 */
export const groupBitB = (g: number) => 1 << ((g >>> 5) & 31);

/** The IPv4 address as an int32 ordered like the address. */
export const flip4 = (v: number) => (v ^ 0x80000000) | 0;
/** The IPv4 address of a `flip4`ped word. */
export const unflip4 = (w: number) => (w ^ 0x80000000) >>> 0;

// ---- port entries ---------------------------------------------------------------------------

/**
 * Words of summary before each port entry: [IPv4 filter (the bit `entrySumBit` of each /16 block
 * its rules' ranges meet; all bits for a prefix list or a range of 32 blocks or more), the
 * references' `groupBit`s, their `groupBitB`s], at these offsets from the entry.
 */
export const ENTRY_SUM = 3;
export const E_SUM_ADDR = -3;
export const E_SUM_REFS = -2;
export const E_SUM_REFS_B = -1;
/** The bit of an IPv4 address in a port entry's address summary: its /16 block, modulo 32. */
export const entrySumBit = (v: number) => (v >>> 16) & 31;
/** The entry's filter: PORT_MAP words, one bit per 1 << MAP_BLOCK points (a word: 1 << MAP_WORD points). */
export const E_FILTER = 0;
export const PORT_MAP = 32;
export const MAP_BLOCK = 6;
export const MAP_WORD = MAP_BLOCK + 5;
/** Past the filter: the port index's offset in the cold blob, the number of chunks, the chunks' pairs. */
export const E_INDEX = E_FILTER + PORT_MAP;
export const E_CHUNKS = E_INDEX + 1;
export const E_CHUNK = E_CHUNKS + 1;
/** A chunk is 1 << CHUNK_BITS points: its pair (CHUNK words) is its filter (a bit per 1 << CHUNK_BLOCK points) and its peers. */
export const CHUNK_BITS = 8;
export const CHUNK_BLOCK = 3;
export const CHUNK = 2;
export const C_FILTER = 0;
export const C_PEERS = 1;
/** Where the chunks' starts are (`chunks` from E_CHUNKS): past their pairs. */
export const chunkStarts = (chunks: number) => E_CHUNK + CHUNK * chunks;

/**
 * A chunk's peers word, what its rules admit whatever the point: the low 16 bits an IPv4 filter
 * (`peerAddressBit` of each /16 block a range meets; all of them, PEER_ANY_ADDRESS, for a prefix
 * list or a range of 16 blocks or more), the high 16 the referenced groups (`peerGroupBit`). IPv6
 * ranges add nothing (IPv6 remotes are not filtered).
 */
export const PEER_ANY_ADDRESS = 0xffff;
export const peerAddressBit = (v: number) => 1 << ((v >>> 16) & 15);
export const peerGroupBit = (g: number) => 1 << (16 + (g & 15));
/**
 * Does a chunk's peers word let an IPv4 remote through: `v` its address, `rsum` a superset of its
 * groups' `groupBit`s?
 */
export const chunkPeer = (peers: number, v: number, rsum: number): number =>
  ((peers >>> ((v >>> 16) & 15)) & 1) | (peers & ((rsum | (rsum >>> 16)) << 16));

// ---- the cold blob, tables and segments -----------------------------------------------------

/** Cold word 0: where the table of other protocols is in the hot blob (0 = none). */
export const COLD_OTHERS = 0;
/** The table of other protocols: [n, (protocol, port entry) × n]. */
export const OT_COUNT = 0;
export const OT_PAIRS = 1;
export const OT_PROTO = 0;
export const OT_ENTRY = 1;
/** A port index: [n, (bound, segment) × n]. */
export const PI_COUNT = 0;
export const PI_PAIRS = 1;
export const PI_BOUND = 0;
export const PI_SEGMENT = 1;
/** Words of a (protocol, entry) or (bound, segment) pair, and of an IPv4 range (RANGE_LO, RANGE_HI). */
export const PAIR = 2;
export const RANGE_LO = 0;
export const RANGE_HI = 1;

/** A segment: its IPv4 ranges [n4, (lo, hi) × n4]… */
export const S_N4 = 0;
export const S_RANGES = 1;
/** …then its references [nRefs, mask, group handles…]… */
export const R_COUNT = 0;
export const R_MASK = 1;
export const R_GROUPS = 2;
/** …then its prefix lists [nPl, prefix-list handles…], then its v6 word (NO_V6 = no IPv6 ranges). */
export const P_COUNT = 0;
export const P_LISTS = 1;
export const NO_V6 = -1;
/** Where a segment's references are (in `A`, the segment at `s`): past its ranges. */
export const segRefs = (A: ArrayLike<number>, s: number) => s + S_RANGES + PAIR * A[s + S_N4]!;
/** Where its prefix lists are (`r` where its references are): past them. */
export const segPrefixLists = (A: ArrayLike<number>, r: number) => r + R_GROUPS + A[r + R_COUNT]!;
/** Where its v6 word is (`p` where its prefix lists are): past them. */
export const segV6 = (A: ArrayLike<number>, p: number) => p + P_LISTS + A[p + P_COUNT]!;

// ---- the arenas ----------------------------------------------------------------------------

/** Blob offset 0 is no blob: words 0..HDR-1 of an arena are the empty blob. */
export const NO_BLOB = 0;
/** Words of a cache line: the hot arena's alignment. */
export const LINE = 16;
/** Words an arena keeps past its last blob: the verdict path reads a filter word at a missing port entry's offset. */
export const ARENA_SLACK = PORT_MAP;
/** Per group handle, DIRECTIONS entries of blob offsets and lengths: ingress, egress. */
export const DIRECTIONS = 2;
export const INGRESS = 0;
export const EGRESS = 1;

// ---- the interface table -------------------------------------------------------------------

/**
 * An interface's row (ROW words, 16 bytes): [its number of groups (capped at COUNT: then the side
 * list of all its groups has the number) | its VPC's handle << VPC_SHIFT, its first ROW_GROUPS
 * group handles (the others are read from the side list)].
 */
export const ROW = 4;
export const ROW_HEAD = 0;
export const ROW_GROUP = 1;
export const ROW_GROUPS = ROW - ROW_GROUP;
export const COUNT = 31;
export const VPC_SHIFT = 5;

// ---- the address table (addr-table.ts) ----------------------------------------------------

/** A slot: SLOT words [flipped address, VPC handle, value, mask]. */
export const SLOT = 4;
export const SLOT_ADDRESS = 0;
export const SLOT_VPC = 1;
export const SLOT_VALUE = 2;
export const SLOT_MASK = 3;
/** Slot values beside the interface handles: free, deleted, an address several interfaces hold. */
export const FREE = -1;
export const DELETED = -3;
export const SEVERAL = -2;
/** Per slot, SUMS words of sums: a superset of the first masks, of the second masks. */
export const SUMS = 2;
export const SUM_A = 0;
export const SUM_B = 1;
