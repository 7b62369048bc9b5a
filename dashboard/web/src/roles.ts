// What each role may do in the app; the API checks the same on every route.
import type { Role } from './types';

export const can = {
  /** take over, hand back and reply */
  write: (r: Role) => r === 'admin' || r === 'supervisor' || r === 'agent',
  /** see the agents page */
  viewAgents: (_r: Role) => true,
  /** change agents and make a prompt live */
  editAgents: (r: Role) => r === 'admin' || r === 'supervisor',
  /** see the team page (users and roles) */
  viewTeam: (r: Role) => r === 'admin' || r === 'supervisor',
  /** see the shops settings page (connected shops, webhook URLs and failures) */
  viewShops: (r: Role) => r === 'admin' || r === 'supervisor',
  /** see the approval queue and approve or reject refunds above the policy's limits */
  approve: (r: Role) => r === 'admin' || r === 'supervisor',
  /** see the knowledge and coverage pages (documents, search playground) */
  viewKnowledge: (_r: Role) => true,
  /** upload, replace and delete knowledge documents */
  editKnowledge: (r: Role) => r === 'admin' || r === 'supervisor',
  /** add users */
  createUsers: (r: Role) => r === 'admin',
};
