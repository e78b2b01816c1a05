/** The outcome of one class of clients towards one service port, memoised for the index. */
import type { Service, ServicePort } from '../model/model.js';
import { memoTable, type MeshIndex } from '../mesh/mesh-index.js';
import type { ClientClass } from './classes.js';
import { connectionOutcome, drFor, type Outcome } from './outcome.js';

const T_OUTCOME = memoTable<ServicePort, Map<string, Outcome | null>>('own:outcome');

/** The memoised outcome of a class towards a service port. */
export function outcomeAt(idx: MeshIndex, c: ClientClass, svc: Service, port: ServicePort): Outcome | null {
  const memo = idx.memo(T_OUTCOME);
  let perPort = memo.get(port);
  if (!perPort) memo.set(port, (perPort = new Map()));
  let o = perPort.get(c.key);
  if (o === undefined) perPort.set(c.key, (o = connectionOutcome(idx, c.rep, drFor(idx, c.drKey, c.rep, svc, port), svc, port)));
  return o;
}
