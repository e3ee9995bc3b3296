/**
 * A transport's peer string for an address and port: "10.0.0.7:51234", and
 * "[::1]:51234" with brackets for IPv6, so that the port can always be told
 * from the address.
 */
export function formatPeer(address: string, port: number | string): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The peer string of an "address:port" written without brackets, as grpc-js's
 * `getPeer()` writes IPv6 callers ("::1:51234"): the port is what follows the
 * last colon.
 */
export function peerFromAddressAndPort(peer: string): string {
  const colon = peer.lastIndexOf(":");
  return colon > 0 ? formatPeer(peer.slice(0, colon), peer.slice(colon + 1)) : peer;
}

const IPV4_MAPPED = "::ffff:";

/**
 * The caller's IP address without the port, from a transport's peer string
 * ("10.0.0.7:51234", "[::1]:51234", "ipv4:10.0.0.7:51234"); an IPv4 address
 * reached over IPv6 ("::ffff:10.0.0.7") is the IPv4 address, so that both are
 * one caller. Plain string work: it runs on every authenticated call.
 */
export function peerAddress(peer: string): string {
  const bare = peer.startsWith("ipv4:") || peer.startsWith("ipv6:") ? peer.slice(5) : peer;
  let address: string;
  if (bare.startsWith("[")) {
    address = bare.slice(1, bare.indexOf("]"));
  } else {
    const colon = bare.indexOf(":");
    // One colon: host:port. More: an IPv6 address without brackets, no port to strip.
    address = colon !== -1 && colon === bare.lastIndexOf(":") ? bare.slice(0, colon) : bare;
  }
  const mapped = address.toLowerCase().startsWith(IPV4_MAPPED) ? address.slice(IPV4_MAPPED.length) : "";
  return mapped.includes(".") ? mapped : address;
}
