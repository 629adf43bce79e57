import type { App } from '@slack/bolt';
import type { Helpdesk, Logger } from '../../core/index.js';

/** How long the agent group's members are taken as known before asking Slack again. */
const AGENT_GROUP_TTL_MS = 60_000;

/**
 * Who the Slack users acting on conversations are: their display names (asked once), whether they
 * are agents (members of SLACK_AGENT_GROUP when set, else anyone in the support channel), and the
 * ephemeral messages that tell one of them why nothing was sent.
 */
export function createSlackAgents(deps: {
  app: App;
  helpdesk: Pick<Helpdesk, 'recordSecurityEvent'>;
  logger: Logger;
  /** User group whose members are the agents; without it, anyone in the support channel is. */
  agentGroup: string | undefined;
}) {
  const { app, helpdesk, logger, agentGroup } = deps;
  const names = new Map<string, string>();
  let agents: { members: Set<string>; at: number } | undefined;
  let agentsLoading: Promise<Set<string> | undefined> | undefined;

  /** The agent's display name (users.info, remembered); the user id when Slack does not answer. */
  async function agentOf(userId: string): Promise<{ id: string; name: string }> {
    const cached = names.get(userId);
    if (cached) return { id: userId, name: cached };
    try {
      const info = await app.client.users.info({ user: userId });
      const user = info.user as { name?: string; real_name?: string; profile?: { display_name?: string; real_name?: string } } | undefined;
      const name = user?.profile?.display_name || user?.profile?.real_name || user?.real_name || user?.name || userId;
      names.set(userId, name);
      return { id: userId, name };
    } catch (error) {
      logger.warn({ err: error, userId }, 'users.info failed; using the user id as name');
      return { id: userId, name: userId };
    }
  }

  /**
   * Whether a Slack user counts as an agent: anyone without an agent group, else a member of that
   * group (usergroups.users.list, asked again after a minute; when Slack does not answer, the last
   * known members; never known: nobody).
   */
  async function isAgent(userId: string): Promise<boolean> {
    if (!agentGroup) return true;
    if (!agents || Date.now() - agents.at > AGENT_GROUP_TTL_MS) {
      agentsLoading ??= app.client.usergroups.users
        .list({ usergroup: agentGroup })
        .then((result) => {
          agents = { members: new Set(result.users ?? []), at: Date.now() };
          return agents.members;
        })
        .catch((error: unknown) => {
          logger.warn({ err: (error as Error).message, group: agentGroup }, 'usergroups.users.list failed; using the agents known before');
          return agents?.members;
        })
        .finally(() => {
          agentsLoading = undefined;
        });
      await agentsLoading;
    }
    return agents?.members.has(userId) ?? false;
  }

  /** An ephemeral message to one user, in the thread when given; a failure is only logged. */
  async function warn(channel: string, user: string, threadTs: string | undefined, text: string): Promise<void> {
    await app.client.chat
      .postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) })
      .catch((error) => logger.warn({ err: error }, 'ephemeral warning failed'));
  }

  /** Refuses a Slack user who is not an agent: recorded, and told why. True when refused. */
  async function refuseNonAgent(userId: string, channel: string, threadTs: string | undefined, route: string): Promise<boolean> {
    if (await isAgent(userId)) return false;
    void helpdesk.recordSecurityEvent({ type: 'access_denied', channel: 'slack', detail: { reason: 'slack_not_agent', route } });
    await warn(channel, userId, threadTs, ":no_entry: Only members of the support agents' user group can act on customer conversations; nothing was sent.");
    return true;
  }

  return { agentOf, isAgent, warn, refuseNonAgent };
}

export type SlackAgents = ReturnType<typeof createSlackAgents>;
