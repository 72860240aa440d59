import { Shutdown } from '../../../shared/composition/shutdown';
import { makeTestServices } from '../../helpers/test-services';

describe('shutdown order', () => {
  it('runs stages in order whatever the registration order, and closes everything past a failure', async () => {
    const shutdown = new Shutdown();
    const ran: string[] = [];
    const step =
      (name: string, fail = false) =>
      async () => {
        ran.push(name);
        if (fail) throw new Error(`${name} failed`);
      };
    shutdown.add('store', 'store', step('store'));
    shutdown.add('clients', 'blobs', step('blobs', true));
    shutdown.add('bus', 'bus', step('bus'));
    shutdown.add('drain', 'propagator', step('propagator'));
    shutdown.add('intake', 'transport', step('transport'));
    expect(shutdown.plan()).toEqual(['transport', 'propagator', 'bus', 'blobs', 'store']);
    await expect(shutdown.run()).rejects.toThrow('blobs failed');
    expect(ran).toEqual(['transport', 'propagator', 'bus', 'blobs', 'store']);
    await expect(shutdown.run()).rejects.toThrow('blobs failed'); // runs once
    expect(ran).toHaveLength(5);
  });

  it('the composition root registers every adapter and service that needs closing', async () => {
    const { services, cleanup } = makeTestServices();
    const closed: string[] = [];
    const close = services.store.close.bind(services.store);
    services.store.close = async () => {
      closed.push('store');
      await close();
    };
    const drain = services.propagator.drain.bind(services.propagator);
    services.propagator.drain = async () => {
      closed.push('propagator');
      await drain();
    };
    await cleanup();
    expect(closed).toEqual(['propagator', 'store']);
  });
});
