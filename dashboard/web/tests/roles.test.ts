import { expect, it } from 'vitest';
import { can } from '../src/roles';

it('gates writing and agent edits by role', () => {
  expect(can.write('analyst')).toBe(false);
  expect(can.write('agent')).toBe(true);
  expect(can.editAgents('agent')).toBe(false);
  expect(can.editAgents('supervisor')).toBe(true);
  expect(can.viewAgents('analyst')).toBe(true);
  expect(can.viewTeam('agent')).toBe(false);
  expect(can.viewTeam('supervisor')).toBe(true);
  expect(can.createUsers('supervisor')).toBe(false);
  expect(can.createUsers('admin')).toBe(true);
  expect(can.viewShops('admin')).toBe(true);
  expect(can.viewShops('supervisor')).toBe(true);
  expect(can.viewShops('agent')).toBe(false);
  expect(can.viewShops('analyst')).toBe(false);
  expect(can.approve('admin')).toBe(true);
  expect(can.approve('supervisor')).toBe(true);
  expect(can.approve('agent')).toBe(false);
  expect(can.approve('analyst')).toBe(false);
});
