/** A sent message's state: waiting, stored by the server (its ack), delivered to the room (their acks), refused. */
export type Tick = "pending" | "sent" | "delivered" | "failed";

const PATHS: Record<Tick, string> = {
  // a clock
  pending:
    "M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13Zm0 1.5a5 5 0 1 1 0 10A5 5 0 0 1 8 3Zm-.75 1.75v4l3 1.8.75-1.23-2.25-1.35V4.75Z",
  // one check
  sent: "M13.3 4.3 6.5 11.1 2.7 7.3l-1 1 4.8 4.8 7.8-7.8z",
  // two checks
  delivered: "M11.8 4.3 5 11.1 1.9 8l-1 1L5 13.1l7.8-7.8zM15.1 4.3 8.3 11.1l-.8-.8-1 1 1.8 1.8 7.8-7.8z",
  // an exclamation mark in a circle
  failed: "M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13ZM7.25 4.5h1.5v5h-1.5zm0 6h1.5V12h-1.5z",
};

/** The small icon after one's own message. */
export function tickIcon(tick: Tick): SVGSVGElement {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("tick", tick);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("fill-rule", "evenodd");
  path.setAttribute("d", PATHS[tick]);
  svg.append(path);
  return svg;
}
