/**
 * Staff roles and what each may do. The console shows a page only to roles holding its
 * permission, and the admin API checks the same permission on every route: one table for both.
 * The support lead's dashboard and the agents' inbox add their permissions here.
 */
export const STAFF_ROLES = ['admin', 'kb_editor', 'agent', 'lead'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/**
 * `inbox.work`: the agents' inbox (queue, conversations, claim, reply, notes, resolve, hand back,
 * using saved replies); `inbox.replies`: keeping the team's saved replies; `stats.read`: the
 * dashboard and GET /api/admin/stats; `files.read`: customers' uploaded files (screenshots are evidence
 * agents work with).
 */
export const PERMISSIONS = ['kb.read', 'kb.edit', 'kb.test', 'kb.gaps', 'stats.read', 'inbox.work', 'inbox.replies', 'files.read'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<StaffRole, readonly Permission[]> = {
  admin: PERMISSIONS,
  kb_editor: ['kb.read', 'kb.edit', 'kb.test', 'kb.gaps'],
  lead: ['kb.read', 'kb.test', 'kb.gaps', 'stats.read', 'inbox.work', 'inbox.replies', 'files.read'],
  agent: ['kb.read', 'kb.test', 'inbox.work', 'files.read'],
};

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === 'string' && (STAFF_ROLES as readonly string[]).includes(value);
}

export function permissionsOf(role: StaffRole): Permission[] {
  return [...GRANTS[role]];
}

export function can(role: StaffRole, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}
