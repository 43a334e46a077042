import { describeMembershipCacheContract } from './membership-cache.contract';
import { MemoryMembershipCache } from './membership-cache.memory';

describeMembershipCacheContract('memory', () => new MemoryMembershipCache());
