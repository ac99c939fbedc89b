// What every trace command taking a <ref> says about it.
export const REF_DETAILS = `<ref> is a ctx://sha256:<hex> URI, its 64 hex digits, or a unique prefix of at least 8 of them
(\`ctxpack trace log\` lists the execution packs).`;
