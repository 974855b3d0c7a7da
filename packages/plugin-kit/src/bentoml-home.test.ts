import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bentomlHome } from './bentoml-home.js';

describe('bentomlHome', () => {
  it('is ~/bentoml without BENTOML_HOME', () => {
    expect(bentomlHome({ HOME: '/home/ada' })).toBe('/home/ada/bentoml');
  });

  it('expands ~ and $VAR / ${VAR} until nothing changes, as BentoML does', () => {
    expect(bentomlHome({ HOME: '/home/ada', BENTOML_HOME: '~/models' })).toBe('/home/ada/models');
    expect(bentomlHome({ HOME: '/home/ada', DATA: '/data', BENTOML_HOME: '${DATA}/$USER_DIR' })).toBe(path.resolve('/data/$USER_DIR'));
    expect(bentomlHome({ HOME: '/home/ada', WHERE: '~/nested', BENTOML_HOME: '$WHERE/bentoml' })).toBe('/home/ada/nested/bentoml');
  });

  it('stops on a value that expands forever', () => {
    expect(bentomlHome({ HOME: '/h', LOOP: 'x$LOOP', BENTOML_HOME: '/b/$LOOP' })).toBe(`/b/${'x'.repeat(10)}$LOOP`);
  });
});
