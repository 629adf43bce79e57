import { renderConflicts } from './pages/conflicts.js';
import { renderDashboard } from './pages/dashboard.js';
import { renderEditor } from './pages/editor.js';
import { renderEntries } from './pages/entries.js';
import { renderGaps } from './pages/gaps.js';
import { renderHistory } from './pages/history.js';
import { renderHitTest } from './pages/hit-test.js';
import { renderInbox } from './pages/inbox.js';
import { renderReplies } from './pages/replies.js';
import { type Page, startConsole } from './shell.js';

// The console's pages by address; the navigation shows those with a label the role may open.
const PAGES: Page[] = [
  { path: /^\/entries$/, permission: 'kb.read', nav: { key: 'navEntries', href: '#/entries' }, render: renderEntries },
  { path: /^\/new$/, permission: 'kb.edit', render: (ctx) => renderEditor(ctx, { isNew: true }) },
  { path: /^\/entries\/([^/]+)$/, permission: 'kb.read', render: (ctx) => renderEditor(ctx, { isNew: false }) },
  { path: /^\/history\/([^/]+)$/, permission: 'kb.read', render: renderHistory },
  { path: /^\/hit-test$/, permission: 'kb.test', nav: { key: 'navHitTest', href: '#/hit-test' }, render: renderHitTest },
  { path: /^\/gaps$/, permission: 'kb.gaps', nav: { key: 'navGaps', href: '#/gaps' }, render: renderGaps },
  { path: /^\/conflicts$/, permission: 'kb.read', nav: { key: 'navConflicts', href: '#/conflicts' }, render: renderConflicts },
  { path: /^\/dashboard$/, permission: 'stats.read', nav: { key: 'navDashboard', href: '#/dashboard' }, render: renderDashboard },
  { path: /^\/inbox(?:\/([0-9a-f-]{36}))?$/, permission: 'inbox.work', nav: { key: 'navInbox', href: '#/inbox' }, render: renderInbox },
  { path: /^\/replies$/, permission: 'inbox.work', nav: { key: 'navReplies', href: '#/replies' }, render: renderReplies },
];

void startConsole(PAGES);
