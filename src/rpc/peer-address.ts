/**
 * The caller's IP address without the port, from a transport's peer string
 * ("10.0.0.7:51234", "[::1]:51234", "ipv4:10.0.0.7:51234"). Plain string work:
 * it runs on every authenticated call.
 */
export function peerAddress(peer: string): string {
  const bare = peer.startsWith("ipv4:") || peer.startsWith("ipv6:") ? peer.slice(5) : peer;
  if (bare.startsWith("[")) return bare.slice(1, bare.indexOf("]"));
  const colon = bare.indexOf(":");
  // One colon: host:port. More: an IPv6 address without brackets, no port to strip.
  return colon !== -1 && colon === bare.lastIndexOf(":") ? bare.slice(0, colon) : bare;
}
