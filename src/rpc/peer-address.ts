/** The caller's IP address without the port, from a transport's peer string ("10.0.0.7:51234", "[::1]:51234", "ipv4:10.0.0.7:51234"). */
export function peerAddress(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, "");
  const bracketed = bare.match(/^\[([^\]]+)\]/);
  if (bracketed?.[1]) return bracketed[1];
  const colons = bare.split(":").length - 1;
  // One colon: host:port. More: an IPv6 address without brackets, no port to strip.
  return colons === 1 ? bare.slice(0, bare.lastIndexOf(":")) : bare;
}
