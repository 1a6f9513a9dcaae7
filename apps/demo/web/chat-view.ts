import type { Socket } from "socket.io-client";
import type {
  ChatClientEvents,
  ChatMessage,
  ChatServerEvents,
  JoinReply,
  RoomSummary,
  SendReply,
} from "../src/events.js";
import { avatar, byId, el, format, randomId } from "./dom.js";
import { type Tick, tickIcon } from "./icons.js";

type ChatSocket = Socket<ChatServerEvents, ChatClientEvents>;

/** A message this page sent that the server has not acked yet. */
interface Outgoing {
  id: string;
  room: string;
  text: string;
  inFlight: boolean;
}

const STORAGE = { name: "tutti-demo:name", room: "tutti-demo:room" } as const;
const ACK_TIMEOUT = 10_000;
/** After this long without a keystroke, the page says it stopped typing. */
const TYPING_IDLE = 3000;
/** While typing, the page repeats "typing" this often; others drop the notice after TYPING_SHOWN. */
const TYPING_REPEAT = 2000;
const TYPING_SHOWN = 5000;
/** Messages kept on screen; older ones are removed. */
const MAX_SHOWN = 200;

const TICK_TITLES: Record<Tick, string> = {
  pending: "Waiting to be sent",
  sent: "Stored by the server",
  delivered: "Delivered",
  failed: "Not sent",
};

const storage = {
  get(key: string): string | undefined {
    try {
      return localStorage.getItem(key) ?? undefined;
    } catch {
      return undefined; // storage can be off (privacy settings); the page then forgets on reload
    }
  },
  set(key: string, value: string): void {
    try {
      localStorage.setItem(key, value);
    } catch {}
  },
};

/** The server's rule for room names (src/chat-rooms.ts), applied before asking it. */
function normalizeRoom(value: string): string | undefined {
  const name = value.trim().toLowerCase().replace(/^#/, "").replace(/\s+/g, "-");
  return name.length > 0 && name.length <= 24 && /^[a-z0-9][a-z0-9-]*$/.test(name) ? name : undefined;
}

/**
 * The chat. Sending is at-least-once with dedupe: each message gets an id here and stays in
 * the outbox until the server acks it; after a reconnect the page joins again (a new socket is
 * in no room) each room it has messages for, then its own, and sends what is left; the server
 * stores a repeated id once.
 */
export function setupChat(socket: ChatSocket): void {
  const list = byId<HTMLOListElement>("messages");
  const input = byId<HTMLInputElement>("message-input");
  const gate = byId<HTMLFormElement>("name-form");
  const nameInput = byId<HTMLInputElement>("name-input");
  const nameError = byId("name-error");
  const roomList = byId<HTMLUListElement>("room-list");
  const roomInput = byId<HTMLInputElement>("room-input");
  const memberList = byId<HTMLUListElement>("member-list");
  const typingLine = byId("typing");

  let name = storage.get(STORAGE.name);
  let room = normalizeRoom(storage.get(STORAGE.room) ?? "") ?? "general";
  /** The room the server has this socket in; undefined until the join is acked on this connection. */
  let joined: string | undefined;
  /** Why the server refused the room, until the page tries again. */
  let joinError: string | undefined;
  let rooms: RoomSummary[] = [];
  /** Connected once and not now: what is sent waits in the outbox. */
  let lostConnection = false;
  let members: string[] = [];
  const outbox: Outgoing[] = [];
  /** The current room's messages on screen, by id. */
  const shown = new Map<string, HTMLLIElement>();
  const typers = new Map<string, number>();

  // ---- rendering ----

  const renderHeader = (): void => {
    byId("room-title").textContent = `# ${room}`;
    byId("members-room").textContent = `#${room}`;
    byId("gate-room").textContent = `#${room}`;
    const online = members.length;
    byId("room-sub").textContent = lostConnection
      ? "offline · what you send now goes out when the connection is back"
      : joined === room
        ? `${online} online · the last 50 messages are kept`
        : joinError !== undefined
          ? `could not join: ${joinError}`
          : "joining…";
    byId("member-count").textContent = String(online);
    byId("me").hidden = name === undefined;
    byId("me-name").textContent = name ?? "";
    list.dataset.empty = `No messages in #${room} yet. Say hello!`;
    input.placeholder = `Message #${room}`;
  };

  const renderRooms = (): void => {
    const all = rooms.some((r) => r.name === room) ? rooms : [...rooms, { name: room, members: 0 }];
    roomList.replaceChildren(
      ...all.map((r) => {
        const button = el("button", r.name === room ? "room active" : "room");
        button.type = "button";
        button.dataset.room = r.name;
        button.append(el("span", "hash", "#"), el("span", "room-name", r.name));
        if (r.members > 0) button.append(el("span", "count", String(r.members)));
        button.addEventListener("click", () => switchRoom(r.name));
        const li = el("li");
        li.append(button);
        return li;
      }),
    );
  };

  const renderMembers = (): void => {
    memberList.replaceChildren(
      ...members.map((member) => {
        const li = el("li", "member");
        li.dataset.name = member;
        li.append(avatar(member), el("span", "member-name", member));
        if (member === name) li.append(el("span", "you", "you"));
        return li;
      }),
    );
    renderHeader();
  };

  const renderTyping = (): void => {
    const names = [...typers.keys()];
    typingLine.textContent =
      names.length === 0
        ? ""
        : names.length === 1
          ? `${names[0]} is typing…`
          : names.length === 2
            ? `${names[0]} and ${names[1]} are typing…`
            : "Several people are typing…";
  };

  const setTick = (li: HTMLLIElement, tick: Tick, title = TICK_TITLES[tick]): void => {
    li.dataset.status = tick;
    const slot = li.querySelector(".ticks");
    if (slot === null) return;
    slot.replaceChildren(tickIcon(tick));
    slot.setAttribute("title", title);
    slot.setAttribute("aria-label", title);
  };

  /** Marks messages that follow one by the same person within five minutes, to draw them as a group. */
  const regroup = (): void => {
    let previous: HTMLLIElement | undefined;
    for (const li of list.children as HTMLCollectionOf<HTMLLIElement>) {
      const follows =
        previous !== undefined &&
        previous.dataset.name === li.dataset.name &&
        Number(li.dataset.at) - Number(previous.dataset.at) < 5 * 60_000;
      li.classList.toggle("follows", follows);
      previous = li;
    }
  };

  const showMessage = (message: ChatMessage, tick?: Tick): HTMLLIElement => {
    const existing = shown.get(message.id);
    if (existing !== undefined) return existing;
    const mine = message.name === name;
    const li = el("li", mine ? "msg mine" : "msg");
    li.dataset.id = message.id;
    li.dataset.name = message.name;
    li.dataset.at = String(message.at);
    const body = el("div", "msg-body");
    const meta = el("div", "meta");
    meta.append(el("span", "author", message.name), el("time", "time", format.time(message.at)));
    const bubble = el("div", "bubble");
    bubble.append(el("span", "text", message.text));
    if (mine) bubble.append(el("span", "ticks"));
    body.append(meta, bubble);
    if (!mine) li.append(avatar(message.name));
    li.append(body);
    if (mine) setTick(li, tick ?? "sent");

    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    // in time order among stored messages; a message not stored yet goes last
    let before: Element | null = null;
    if (tick !== "pending") {
      for (const other of list.children as HTMLCollectionOf<HTMLLIElement>) {
        if (other.dataset.status === "pending" || Number(other.dataset.at) > message.at) {
          before = other;
          break;
        }
      }
    }
    list.insertBefore(li, before);
    shown.set(message.id, li);
    while (list.children.length > MAX_SHOWN) {
      const oldest = list.firstElementChild as HTMLLIElement;
      shown.delete(oldest.dataset.id ?? "");
      oldest.remove();
    }
    regroup();
    if (atBottom || mine) list.scrollTop = list.scrollHeight;
    return li;
  };

  const clearRoomView = (): void => {
    list.replaceChildren();
    shown.clear();
    members = [];
    for (const timer of typers.values()) clearTimeout(timer);
    typers.clear();
    renderTyping();
    renderMembers();
  };

  const showGate = (show: boolean): void => {
    gate.classList.toggle("open", show);
    if (show) {
      nameInput.value = name ?? "";
      nameInput.focus({ preventScroll: true });
    }
  };

  // ---- talking to the server ----

  /** Sends one message of the outbox; it leaves the outbox when the server answers. */
  const send = async (out: Outgoing): Promise<void> => {
    out.inFlight = true;
    let reply: SendReply;
    try {
      reply = await socket.timeout(ACK_TIMEOUT).emitWithAck("message", { id: out.id, room: out.room, text: out.text });
    } catch {
      // disconnected or no answer in time: sent again after the next join (the server dedupes)
      out.inFlight = false;
      return;
    }
    const index = outbox.indexOf(out);
    if (index !== -1) outbox.splice(index, 1);
    const li = shown.get(out.id);
    if (li === undefined) return;
    if (!reply.ok) return setTick(li, "failed", `Not sent: ${reply.error}`);
    if (li.dataset.status === "pending") setTick(li, "sent");
    li.dataset.at = String(reply.message.at);
  };

  const flush = (): void => {
    if (!socket.connected || joined === undefined) return;
    for (const out of outbox) if (!out.inFlight && out.room === joined) void send(out);
  };

  /** Asks the server to put this socket in `target`; undefined when no answer came. */
  const requestJoin = async (target: string, as: string): Promise<JoinReply | undefined> => {
    try {
      return await socket.timeout(ACK_TIMEOUT).emitWithAck("join", { room: target, name: as });
    } catch {
      return undefined;
    }
  };

  /**
   * Sends what waits for other rooms (typed offline before switching rooms): the server takes a
   * message only in a room joined, so the page visits each such room in turn. What fails is
   * tried again on the next visit.
   */
  const sendElsewhere = async (): Promise<void> => {
    const others = new Set(outbox.filter((out) => out.room !== room && !out.inFlight).map((out) => out.room));
    for (const other of others) {
      if (name === undefined || !socket.connected) return;
      joined = undefined;
      const reply = await requestJoin(other, name);
      if (reply === undefined || !reply.ok) continue;
      await Promise.all(outbox.filter((out) => out.room === other && !out.inFlight).map(send));
    }
  };

  /**
   * Joins `room` on this connection, shows its history and members, and sends what waits for
   * it. Resolves to false when the server did not answer while connected (to be tried again).
   */
  const join = async (): Promise<boolean> => {
    if (name === undefined || !socket.connected) return true;
    const target = room;
    const reply = await requestJoin(target, name);
    if (target !== room || !socket.connected) return true; // moved on meanwhile, or offline: joined again later
    if (reply === undefined) return false;
    if (!reply.ok) {
      if (reply.field === "room") {
        joinError = reply.error;
        renderHeader();
        return true;
      }
      nameError.textContent = reply.error;
      showGate(true);
      return true;
    }
    name = reply.name;
    storage.set(STORAGE.name, name);
    storage.set(STORAGE.room, room);
    joined = room;
    nameError.textContent = "";
    showGate(false);
    for (const message of reply.history) showMessage(message);
    for (const out of outbox) {
      if (out.room === room) showMessage({ id: out.id, room, name, text: out.text, at: Date.now() }, "pending");
    }
    members = reply.members;
    renderMembers();
    renderRooms();
    flush();
    return true;
  };

  /**
   * Brings the server up to date: what waits for other rooms, then the page's room. One run at
   * a time; a call during a run (a room switch, a new name) makes it run once more.
   */
  let syncing = false;
  let syncAgain = false;
  const sync = async (): Promise<void> => {
    if (syncing) {
      syncAgain = true;
      return;
    }
    syncing = true;
    do {
      syncAgain = false;
      joinError = undefined;
      await sendElsewhere();
      if (!(await join())) syncAgain = true; // connected but no answer: ask again
    } while (syncAgain && socket.connected);
    syncing = false;
  };

  const switchRoom = (next: string): void => {
    if (next === room) return;
    stopTyping();
    room = next;
    joined = undefined;
    joinError = undefined;
    clearRoomView();
    renderRooms();
    void sync();
  };

  // ---- typing ----

  let lastTypingSent = 0;
  let idleTimer: number | undefined;
  const stopTyping = (): void => {
    clearTimeout(idleTimer);
    if (lastTypingSent === 0) return;
    lastTypingSent = 0;
    if (socket.connected) socket.emit("typing", false);
  };
  input.addEventListener("input", () => {
    if (joined === undefined || !socket.connected) return;
    if (input.value.trim() === "") return stopTyping();
    if (Date.now() - lastTypingSent > TYPING_REPEAT) {
      socket.emit("typing", true);
      lastTypingSent = Date.now();
    }
    clearTimeout(idleTimer);
    idleTimer = window.setTimeout(stopTyping, TYPING_IDLE);
  });
  input.addEventListener("blur", stopTyping);

  // ---- events ----

  socket.on("connect", () => {
    joined = undefined;
    lostConnection = false;
    renderHeader();
    void sync();
  });
  socket.on("disconnect", () => {
    joined = undefined;
    lostConnection = true;
    for (const out of outbox) out.inFlight = false;
    for (const timer of typers.values()) clearTimeout(timer);
    typers.clear();
    renderTyping();
    renderHeader();
  });
  socket.on("rooms", (summaries) => {
    rooms = summaries;
    renderRooms();
  });
  socket.on("presence", (forRoom, names) => {
    if (forRoom !== room) return;
    members = names;
    renderMembers();
  });
  socket.on("message", (message, ack) => {
    ack();
    if (message.room !== joined) return;
    clearTimeout(typers.get(message.name));
    if (typers.delete(message.name)) renderTyping();
    showMessage(message);
  });
  socket.on("delivered", (id, count) => {
    const li = shown.get(id);
    if (li !== undefined) setTick(li, "delivered", `Delivered to ${count} ${count === 1 ? "person" : "people"}`);
  });
  socket.on("typing", (who, typing) => {
    if (who === name) return;
    clearTimeout(typers.get(who));
    if (typing) {
      typers.set(
        who,
        window.setTimeout(() => {
          typers.delete(who);
          renderTyping();
        }, TYPING_SHOWN),
      );
    } else typers.delete(who);
    renderTyping();
  });

  // ---- forms ----

  gate.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = nameInput.value.trim();
    if (chosen === "") return;
    if (chosen !== name) clearRoomView(); // own messages are drawn by name
    name = chosen;
    joined = undefined;
    renderHeader();
    if (socket.connected) void sync();
    else {
      storage.set(STORAGE.name, name);
      showGate(false);
    }
  });
  byId("rename").addEventListener("click", () => showGate(true));

  byId<HTMLFormElement>("room-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const next = normalizeRoom(roomInput.value);
    if (next === undefined) {
      roomInput.setCustomValidity("Use 1 to 24 letters, digits or dashes");
      roomInput.reportValidity();
      return;
    }
    roomInput.value = "";
    switchRoom(next);
  });
  roomInput.addEventListener("input", () => roomInput.setCustomValidity(""));

  byId<HTMLFormElement>("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text === "" || name === undefined) return;
    input.value = "";
    stopTyping();
    const id = randomId();
    outbox.push({ id, room, text, inFlight: false });
    showMessage({ id, room, name, text, at: Date.now() }, "pending");
    flush();
  });

  renderHeader();
  renderRooms();
  showGate(name === undefined);
}
