import { Manager, type Socket } from "socket.io-client";
import type {
  ChatClientEvents,
  ChatServerEvents,
  DashboardClientEvents,
  DashboardServerEvents,
  StatusClientEvents,
  StatusServerEvents,
} from "../src/events.js";
import { setupChat } from "./chat-view.js";
import { setupDashboard } from "./dashboard-view.js";
import { setupStatusBar } from "./status-bar.js";
import "./styles.css";

// One connection for the page: the three namespaces are multiplexed over the manager's engine.
const manager = new Manager(location.origin, { reconnectionDelay: 500, reconnectionDelayMax: 3000 });
const status: Socket<StatusServerEvents, StatusClientEvents> = manager.socket("/");
const chat: Socket<ChatServerEvents, ChatClientEvents> = manager.socket("/chat");
const dashboard: Socket<DashboardServerEvents, DashboardClientEvents> = manager.socket("/dashboard");

setupStatusBar(manager, status);
setupChat(chat);
setupDashboard(dashboard);

const VIEWS = ["chat", "dashboard"] as const;
type View = (typeof VIEWS)[number];

const showView = (): void => {
  const wanted = location.hash.slice(1);
  const view: View = VIEWS.find((v) => v === wanted) ?? "chat";
  for (const v of VIEWS) {
    const section = document.getElementById(`view-${v}`); // not the hash itself: the page would jump to it
    if (section !== null) section.hidden = v !== view;
    document.querySelector(`[data-tab="${v}"]`)?.setAttribute("aria-current", v === view ? "page" : "false");
  }
  document.body.dataset.view = view;
};
window.addEventListener("hashchange", showView);
showView();
