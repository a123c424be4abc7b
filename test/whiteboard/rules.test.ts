import t from 'tap';
import { CLIENT_MESSAGE_TYPES, ROLES, type ClientMessageType, type Role } from '../../src/whiteboard/protocol.js';
import { mayDelete, permits, refusal } from '../../src/whiteboard/rules.js';

// Every role × every message type, written out: Y may send it, - may not.
const TABLE: Record<ClientMessageType, Record<Role, 'Y' | '-'>> = {
  join_room: { admin: 'Y', editor: 'Y', viewer: 'Y' },
  leave_room: { admin: 'Y', editor: 'Y', viewer: 'Y' },
  ping: { admin: 'Y', editor: 'Y', viewer: 'Y' },
  cursor: { admin: 'Y', editor: 'Y', viewer: 'Y' },
  draw: { admin: 'Y', editor: 'Y', viewer: '-' },
  delete_drawing: { admin: 'Y', editor: 'Y', viewer: '-' },
  ai_generate_image: { admin: 'Y', editor: 'Y', viewer: '-' },
  clear_canvas: { admin: 'Y', editor: '-', viewer: '-' },
  clear_room: { admin: 'Y', editor: '-', viewer: '-' },
};

t.test('the table covers every message type of the protocol', async (t) => {
  t.same(Object.keys(TABLE).sort(), [...CLIENT_MESSAGE_TYPES].sort());
});

t.test('role × message type', async (t) => {
  for (const type of CLIENT_MESSAGE_TYPES) {
    for (const role of ROLES) {
      t.equal(permits(role, type), TABLE[type][role] === 'Y', `${role} ${TABLE[type][role] === 'Y' ? 'may' : 'may not'} send ${type}`);
      if (!permits(role, type)) t.match(refusal(role, type), new RegExp(`\\b${role}\\b`), `the refusal of ${type} names the ${role} role`);
    }
  }
});

t.test('delete: the author unless a viewer, or the admin', async (t) => {
  t.equal(mayDelete('admin', 'a', 'someone-else'), true, 'the admin deletes anyone’s drawing');
  t.equal(mayDelete('editor', 'e', 'e'), true, 'an editor deletes their own');
  t.equal(mayDelete('editor', 'e', 'someone-else'), false, 'but not someone else’s');
  t.equal(mayDelete('viewer', 'v', 'v'), false, 'a viewer deletes nothing, not even an earlier drawing of theirs');
});
